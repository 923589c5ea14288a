// Package datasets is a catalog of named IR test collections in irflow's
// common layout (docs.tsv, corpus.jsonl, queries.tsv, qrels.txt), and a
// store that downloads their files on first use, verifies their sha256,
// resumes interrupted transfers and can be pointed at a mirror for
// offline use. See docs/datasets.md.
package datasets

import (
	"slices"
	"sort"
	"strings"

	"github.com/agext/levenshtein"
)

// File is one file of the common layout.
type File struct {
	// Path is the file's place in the layout (and in the store and any
	// mirror), e.g. "vaswani/qrels.txt".
	Path   string
	Size   int64
	SHA256 string
	// URL is a byte-identical upstream copy, pinned to a commit. It is
	// empty for files irflow's layout derives (normalised text, TSV from
	// SGML, renumbered queries): only a mirror serves those.
	URL string
}

// Dataset is a named collection: documents, queries and judgments, plus
// ready-made runs where the collection ships them.
type Dataset struct {
	Name string
	// Docs (id<TAB>text), Corpus (BEIR JSONL), Queries (id<TAB>text) and
	// Qrels (TREC) are layout paths of files in the catalog.
	Docs, Corpus, Queries, Qrels string
	// Runs are first-stage runs to re-rank, by system name.
	Runs map[string]string
	// JudgedOnly keeps only the queries that have judgments (ir_datasets'
	// "judged" subsets); the store derives that query file.
	JudgedOnly bool
	// Source is where the collection comes from upstream.
	Source  string
	License string
	Doc     string
}

const (
	anseriniTools = "https://raw.githubusercontent.com/castorini/anserini-tools/5b819c1a45c8a0a3ec9426f476694f44a29dfaf3/topics-and-qrels/"
	terrierCore   = "https://raw.githubusercontent.com/terrier-org/terrier-core/3ceec7d89cb943a56e4bf298b00897d4221d0002/share/vaswani_npl/"
	rankLLM       = "https://raw.githubusercontent.com/castorini/rank_llm/20622a7778f47e57a8a40ed9cf65ae7807de6ddc/retrieve_results/"
	glasgow       = "http://ir.dcs.gla.ac.uk/resources/test_collections/"
)

// files lists every catalogued file with the size and sha256 it has in the
// shared collections (../shared/data/SHA256SUMS).
var files = map[string]File{}

func init() {
	for _, f := range []File{
		{"adi/docs.tsv", 34603, "b7a0a66e2a223ab1fa4ba0bfb89e6b97d2214dc1a04a95b13e234006ddee409b", ""},
		{"adi/corpus.jsonl", 37391, "ebf49170df25594ee9cf0276d1bafdeab10f8b6717d915fe52f1af0a661ccf9a", ""},
		{"adi/queries.tsv", 3755, "2f7aacc2a5be2b1e298aa8de05a2dcf97f05e247bf4f42cacb2caeffc4787ef6", ""},
		{"adi/qrels.txt", 1644, "b2b569545f9a7067de6071e4a84d18d0ff3bc29bfe6b343deffb72ae2152aa43", ""},

		{"cranfield/docs.tsv", 1438188, "85a2e5ab42567403fa6f1ee52317b569206903a67793511098331aae04aaf669", ""},
		{"cranfield/corpus.jsonl", 1598715, "75fb474b7d43175126a72850a4930d1aebd64bcf3fa6f8ec21d50a974c6bf7ec", ""},
		{"cranfield/queries.tsv", 26547, "634566882dd9e5e50ea3183cb699be421bc7b3448c9b86f04e8ac9f141dbf814", ""},
		{"cranfield/qrels.txt", 21379, "fc314bf97f6d90c01977a730b27fb60a73e2053c8b46d8af9dc699fe4253cd66", ""},

		{"vaswani/docs.tsv", 3156750, "2b459f6261f32ca426b1a48be736c6cb1cec8cc5b330f35f5ed3aa5fe3a6d02c", ""},
		{"vaswani/corpus.jsonl", 3556765, "6c4cd42df39a63e5c2f2b0382171f310029ec9c07aa90d3e11182271c532c139", ""},
		{"vaswani/queries.tsv", 7271, "d62e89fa683324574f5699dc7abba51969fc1e95fd656ee93461e33e51d3bf55", ""},
		{"vaswani/qrels.txt", 24863, "1b3ed6a43752c7a7becb0dbd1614d662791bb7825b60182fd36be24d480ea447", terrierCore + "qrels"},

		{"scifact/docs.tsv", 7827395, "7c8beba4c0eb32a8b141eb7f7c2530cc39f1894e01da5ac8532c3da84c64ba0c", ""},
		{"scifact/corpus.jsonl", 8005249, "ae39e2b331413acd6c58c262e3d2c1bf2b4afb5407ccfa6d06dd3f06e5da1f28", ""},
		{"scifact/queries.tsv", 28675, "985857c4b96c9e257ca2f70a4d18d7dc12aea5fd8da78fc265edf9720ee2026c", ""},
		{"scifact/qrels.txt", 5702, "8b7315286f8dc823956025a1fc9c9ff0bfe142d7b409458ccd758cfa0713ccba", anseriniTools + "qrels.beir-v1.0.0-scifact.test.txt"},
		{"scifact/queries.train.tsv", 75891, "ff2782f73c72649f28cac0f49bc0ce00ff5ff82a12f810fb97fc8bd30d9b0e2b", ""},
		{"scifact/qrels.train.txt", 15395, "f47c9c71986f21c262527659988a3ad7869e3b8fe7194197606af2bb79b529ee", ""},

		{"msmarco-passage/rerank/passages.tsv", 8108815, "58dda36d103af2a607ddd1323ee85f5438a151f077b2158ad70b06a609554f16", ""},
		{"msmarco-passage/rerank/corpus.jsonl", 8857688, "c8fe8b19197a2bd641a69d9530246509761543f6f6bd6c3326c07c5185aa4839", ""},
		{"msmarco-passage/queries.dl19.tsv", 1764, "518992da259fb61f64e4790791df91a7b42ea5773f374aed59220ebb51d58d90", anseriniTools + "topics.dl19-passage.txt"},
		{"msmarco-passage/qrels.dl19.txt", 177832, "54dea8f531d6bfd93da8d3dd2f4f7a2609e2fb962835a000780ec60b1b819387", ""},
		{"msmarco-passage/queries.dl20.tsv", 8192, "d62dd08b58849803bf7618cf537cce49e2d63569bda3e7189285e6425015ddd9", ""},
		{"msmarco-passage/qrels.dl20.txt", 218617, "60d4c34561f9687f8f73e0a752ba80ab80159b3e9c1bedd0a351f747ed6f5684", anseriniTools + "qrels.dl20-passage.txt"},
		{"msmarco-passage/rerank/runs/bm25.dl19.top100.trec", 190529, "cbada2e4f710f8cafb8f1fd54e2289011b3273cdc044adb2380af21f63a6c861", rankLLM + "BM25/trec_results_dl19.txt"},
		{"msmarco-passage/rerank/runs/bm25.dl20.top100.trec", 240316, "fba5d55aa8335bd1c74f7860dee354e69986b627c640b34ba47e084e311c24d2", rankLLM + "BM25/trec_results_dl20.txt"},
		{"msmarco-passage/rerank/runs/bm25-rm3.dl19.top100.trec", 191863, "fd1b5b6358731eb82a42f240b27e2ec061b087a64dff8d61e9bc4f4e61175325", rankLLM + "BM25_RM3/trec_results_dl19.txt"},
		{"msmarco-passage/rerank/runs/bm25-rm3.dl20.top100.trec", 241312, "7d21a75df074dcaf7dd9ac7c45fea29c17c5a13a72381a6c1ba6ec9eed49f156", rankLLM + "BM25_RM3/trec_results_dl20.txt"},
		{"msmarco-passage/rerank/runs/splade-pp-ed.dl19.top100.trec", 147985, "5e09e4219740fd9b2a57637fccf6d00932c938c47a07b97ce0852c0b2596a4e1", rankLLM + "SPLADE_P_P_ENSEMBLE_DISTIL/trec_results_dl19.txt"},
		{"msmarco-passage/rerank/runs/splade-pp-ed.dl20.top100.trec", 186223, "24062fcd8b8dfdf9f2710907c786541c870e8463d5dadea6b9e903821694918e", rankLLM + "SPLADE_P_P_ENSEMBLE_DISTIL/trec_results_dl20.txt"},
		{"msmarco-passage/rerank/runs/tasb.dl19.top100.trec", 190741, "194ac7678312edbbd9aeb322e5b00fac63ecf081fccc2dd88e4c0dd2d8fc255e", rankLLM + "D_BERT_KD_TASB/trec_results_dl19.txt"},
		{"msmarco-passage/rerank/runs/tasb.dl20.top100.trec", 240082, "cc4765e2c732caa704c8df0d5af06fe8e02992893e77c676f4f31b3d22d9b05f", rankLLM + "D_BERT_KD_TASB/trec_results_dl20.txt"},
	} {
		files[f.Path] = f
	}
}

// judgedQueries are the query files the store derives for JudgedOnly
// datasets whose query file holds unjudged queries, by dataset name. The
// sha256 is that of the upstream queries filtered to the qrels' query ids in
// file order (awk over shared/data gives the same bytes), so a derived file
// is pinned like a downloaded one.
var judgedQueries = map[string]File{
	"msmarco-passage/trec-dl-2020/judged": {"msmarco-passage/trec-dl-2020/judged/queries.tsv", 2276, "5225311298875d7bcdadbd99ae507b805f39d4fd9e8fc8bf145b130bca531766", ""},
}

func msmarcoRuns(set string) map[string]string {
	runs := map[string]string{}
	for _, sys := range []string{"bm25", "bm25-rm3", "splade-pp-ed", "tasb"} {
		runs[sys] = "msmarco-passage/rerank/runs/" + sys + "." + set + ".top100.trec"
	}
	return runs
}

var catalog = []*Dataset{
	{
		Name: "adi", Docs: "adi/docs.tsv", Corpus: "adi/corpus.jsonl", Queries: "adi/queries.tsv", Qrels: "adi/qrels.txt",
		Source: glasgow + "adi/", License: "Glasgow IR group research collection (no licence text)",
		Doc: "ADI: 82 documents, 35 queries, binary judgments. A tiny, complete fixture.",
	},
	{
		Name: "cranfield", Docs: "cranfield/docs.tsv", Corpus: "cranfield/corpus.jsonl", Queries: "cranfield/queries.tsv", Qrels: "cranfield/qrels.txt",
		Source: glasgow + "cran/cran.tar.gz", License: "Glasgow IR group research collection (no licence text)",
		Doc: "Cranfield 1400: 1,400 aeronautics abstracts, 225 queries numbered 1..225 as the qrels number them, graded 0-4 (higher is better).",
	},
	{
		Name: "vaswani", Docs: "vaswani/docs.tsv", Corpus: "vaswani/corpus.jsonl", Queries: "vaswani/queries.tsv", Qrels: "vaswani/qrels.txt",
		Source: "https://github.com/terrier-org/terrier-core/tree/3ceec7d89cb943a56e4bf298b00897d4221d0002/share/vaswani_npl", License: "NPL collection as shipped in terrier-core (MPL 1.1)",
		Doc: "Vaswani (NPL): 11,429 electronics abstracts, 93 queries, binary judgments.",
	},
	{
		Name: "beir/scifact/test", Docs: "scifact/docs.tsv", Corpus: "scifact/corpus.jsonl", Queries: "scifact/queries.tsv", Qrels: "scifact/qrels.txt",
		Source: "https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/scifact.zip", License: "claims CC BY 4.0, abstracts ODC-By 1.0",
		Doc: "BEIR SciFact test: 5,183 abstracts, 300 claims, 339 binary judgments.",
	},
	{
		Name: "beir/scifact/train", Docs: "scifact/docs.tsv", Corpus: "scifact/corpus.jsonl", Queries: "scifact/queries.train.tsv", Qrels: "scifact/qrels.train.txt",
		Source: "https://public.ukp.informatik.tu-darmstadt.de/thakur/BEIR/datasets/scifact.zip", License: "claims CC BY 4.0, abstracts ODC-By 1.0",
		Doc: "BEIR SciFact train: 809 claims, 919 binary judgments.",
	},
	{
		Name: "msmarco-passage/trec-dl-2019/judged", Docs: "msmarco-passage/rerank/passages.tsv", Corpus: "msmarco-passage/rerank/corpus.jsonl",
		Queries: "msmarco-passage/queries.dl19.tsv", Qrels: "msmarco-passage/qrels.dl19.txt", Runs: msmarcoRuns("dl19"), JudgedOnly: true,
		Source: "https://microsoft.github.io/msmarco/TREC-Deep-Learning-2019", License: "MS MARCO terms: non-commercial research only",
		Doc: "TREC DL 2019 passage, 43 judged queries, grades 0-3 (binary measures use rel=2). Docs are the 21,393 passages of the four top-100 runs, not the 8.8M collection.",
	},
	{
		Name: "msmarco-passage/trec-dl-2020/judged", Docs: "msmarco-passage/rerank/passages.tsv", Corpus: "msmarco-passage/rerank/corpus.jsonl",
		Queries: "msmarco-passage/queries.dl20.tsv", Qrels: "msmarco-passage/qrels.dl20.txt", Runs: msmarcoRuns("dl20"), JudgedOnly: true,
		Source: "https://microsoft.github.io/msmarco/TREC-Deep-Learning-2020", License: "MS MARCO terms: non-commercial research only",
		Doc: "TREC DL 2020 passage, the 54 judged of 200 queries, grades 0-3 (binary measures use rel=2). Docs are the 21,393 passages of the four top-100 runs, not the 8.8M collection.",
	},
}

// Lookup finds a dataset by name.
func Lookup(name string) (*Dataset, bool) {
	i := slices.IndexFunc(catalog, func(d *Dataset) bool { return d.Name == name })
	if i < 0 {
		return nil, false
	}
	return catalog[i], true
}

// Names lists the catalogued datasets, sorted.
func Names() []string {
	var n []string
	for _, d := range catalog {
		n = append(n, d.Name)
	}
	sort.Strings(n)
	return n
}

// Suggest returns the catalogued name a mistyped name most likely meant:
// one that ends with it ("beir/scifact/train" for "scifact/train") or one
// at most two edits away; "" if none is close.
func Suggest(name string) string {
	best, bestDist := "", 3
	for _, n := range Names() {
		if name != "" && strings.HasSuffix(n, "/"+name) {
			return n
		}
		if d := levenshtein.Distance(name, n, nil); d < bestDist {
			best, bestDist = n, d
		}
	}
	return best
}

// Files lists the layout files a dataset needs, sorted by path.
func (d *Dataset) Files() []File {
	paths := []string{d.Docs, d.Corpus, d.Queries, d.Qrels}
	for _, r := range d.Runs {
		paths = append(paths, r)
	}
	slices.Sort(paths)
	out := make([]File, 0, len(paths))
	for _, p := range slices.Compact(paths) {
		out = append(out, files[p])
	}
	return out
}

// Role names of a dataset's files, as recipes name them
// (collection.NAME.docs, collection.NAME.runs.bm25).
const (
	RoleDocs    = "docs"
	RoleCorpus  = "corpus"
	RoleQueries = "queries"
	RoleQrels   = "qrels"
	RoleRuns    = "runs"
)

// RoleFile is one file of a dataset with the part it plays.
type RoleFile struct {
	// Role is one of RoleDocs, RoleCorpus, RoleQueries, RoleQrels, RoleRuns.
	Role string
	// System names the run's system (RoleRuns only).
	System string
	File   File
	// Derived files are written by the store from the dataset's other
	// files (the judged queries of a JudgedOnly dataset), never fetched.
	Derived bool
}

// Roles lists the dataset's files by role: docs, corpus, queries, qrels,
// then the runs by system. The queries are the ones Store.Resolve returns:
// for a JudgedOnly dataset with unjudged queries, the derived file.
func (d *Dataset) Roles() []RoleFile {
	out := []RoleFile{
		{Role: RoleDocs, File: files[d.Docs]},
		{Role: RoleCorpus, File: files[d.Corpus]},
		{Role: RoleQueries, File: files[d.Queries]},
		{Role: RoleQrels, File: files[d.Qrels]},
	}
	if f, ok := judgedQueries[d.Name]; ok && d.JudgedOnly {
		out[2] = RoleFile{Role: RoleQueries, File: f, Derived: true}
	}
	systems := make([]string, 0, len(d.Runs))
	for sys := range d.Runs {
		systems = append(systems, sys)
	}
	sort.Strings(systems)
	for _, sys := range systems {
		out = append(out, RoleFile{Role: RoleRuns, System: sys, File: files[d.Runs[sys]]})
	}
	return out
}

// Systems lists the names of the dataset's runs, sorted.
func (d *Dataset) Systems() []string {
	var out []string
	for _, r := range d.Roles() {
		if r.Role == RoleRuns {
			out = append(out, r.System)
		}
	}
	return out
}
