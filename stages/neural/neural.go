// Package neural registers the neural first-stage retrieval kinds, named
// after Lightning IR's index configs: block `index` methods "dense"
// (TorchDense/FaissFlat: one vector per document), "sparse" (TorchSparse:
// SPLADE-style vocabulary weights in an impact inverted index) and
// "multivector" (TorchDense for `col` models: token vectors, MaxSim), and
// the `search` methods of the same names.
//
// It is glue: documents are encoded by models/inference in shards that are
// committed to the stage's checkpoint directory (so a killed index build
// resumes at its first missing shard), then the index is written by
// index/dense, index/sparse or index/multivector and searched exactly by
// the search/… packages.
package neural

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"

	densex "github.com/irflow/irflow/index/dense"
	ivfx "github.com/irflow/irflow/index/ivf"
	multix "github.com/irflow/irflow/index/multivector"
	sparsex "github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/inference"
	"github.com/irflow/irflow/pipeline/stage"
	"github.com/irflow/irflow/stages/components"
	"github.com/irflow/irflow/stages/components/libtorch"
	"github.com/irflow/irflow/stages/device"
)

// Methods.
const (
	MethodDense       = "dense"
	MethodSparse      = "sparse"
	MethodMultivector = "multivector"
)

// InfoFormat is the version of neural.json, the description of a neural
// index that search checks before using it.
const InfoFormat = 1

// Format is the stage format name of a method's index ("index/sparse").
func Format(m string) string { return "index/" + m }

// formatVersions are the on-disk versions behind each format: neural.json's
// and the library's own, so a change of either re-runs the stages writing it.
var formatVersions = map[string]string{
	MethodDense:       fmt.Sprintf("%d.%d", InfoFormat, densex.Format),
	MethodSparse:      fmt.Sprintf("%d.%d", InfoFormat, sparsex.Format),
	MethodMultivector: fmt.Sprintf("%d.%d", InfoFormat, multix.Format),
	MethodIVF:         fmt.Sprintf("%d.%d.%d", InfoFormat, densex.Format, ivfx.Format),
	MethodPQ:          fmt.Sprintf("%d.%d.%d", InfoFormat, densex.Format, ivfx.Format),
	MethodIVFPQ:       fmt.Sprintf("%d.%d.%d", InfoFormat, densex.Format, ivfx.Format),
}

func init() {
	for _, m := range append([]string{MethodDense, MethodSparse, MethodMultivector}, annMethods...) {
		stage.RegisterFormat(stage.Format{Name: Format(m), Version: formatVersions[m],
			Doc:   "a " + m + " neural index (index method " + m + ")",
			Sniff: func(path string) bool { _, _, err := readInfo(path, m); return err == nil }})
		stage.Register(refuseUnindexable(IndexKind(m)))
		stage.Register(refuseUnindexable(SearchKind(m)))
	}
}

var methodDocs = map[string]string{
	MethodDense:       "one vector per document (DPR, sentence-transformers): a memory-mapped matrix searched exactly with the model's similarity (Lightning IR's TorchDense / FaissFlat).",
	MethodSparse:      "a vocabulary-sized sparse vector per document (SPLADE): an impact inverted index with block-max pruning, exact top-k (Lightning IR's TorchSparse).",
	MethodMultivector: "one vector per scored token (ColBERT-style `col` models): token vectors with per-document offsets, exact MaxSim with the model's aggregation (Lightning IR's TorchDense for col).",
	MethodIVF:         "approximate: IVF-Flat, the dense vectors grouped into n_lists inverted lists by seeded k-means; search scores the n_probe nearest lists exactly (Lightning IR's FaissIVFIndexConfig, faiss IndexIVFFlat).",
	MethodPQ:          "approximate: product quantisation, m bytes per vector (8-bit codes, optional OPQ rotation); search scores every code by asymmetric distance, then re-scores the candidates exactly (Lightning IR's FaissPQIndexConfig, faiss IndexPQ).",
	MethodIVFPQ:       "approximate: IVF-PQ, n_lists inverted lists holding m-byte product-quantised residuals (optional OPQ rotation); search scores the n_probe nearest lists by asymmetric distance, then re-scores the candidates exactly (Lightning IR's FaissIVFPQIndexConfig, faiss IndexIVFPQ).",
}

// modelParams are the parameters shared by index and search: the model
// and its head.
func modelParams() []stage.Param {
	return []stage.Param{
		{Name: "model", Type: stage.Input, Required: true, Schemes: []string{hf.ModelScheme}, Accepts: []string{stage.FormatModel}, Doc: `A model directory, or "hf:org/name[@revision]" fetched through the Hugging Face cache by ` + "`irflow run`" + `. Its files' content is part of the cache key.`},
		{Name: "head", Type: stage.String, Default: "", Enum: append([]string{""}, biEncoders()...), Doc: `Head preset overriding the model's own: "dpr", "col", "splade" or "sentence-transformers"; "" = from the model directory.`},
		{Name: "head_options", Type: stage.StringMap, Default: map[string]string{}, Check: heads.CheckOverrides, Doc: `Single head options on top of the preset, by Lightning IR's names, e.g. { doc_length = "256", similarity = "dot" } (models/heads.Options).`},
		{Name: "batch_size", Type: stage.Number, Default: 8.0, Integer: true, Min: stage.Above(0), Meta: true, Doc: "Texts per forward pass."},
		device.Param(),
		device.PrecisionParam(),
	}
}

// IndexKind describes `index` with method m.
func IndexKind(m string) *stage.Kind {
	if isANN(m) {
		return annIndexKind(m)
	}
	if m == MethodSeismic {
		return seismicIndexKind()
	}
	params := []stage.Param{
		{Name: "docs", Type: stage.Input, Required: true, Accepts: []string{stage.FormatDocs}, Doc: "Documents: id<TAB>text (.tsv) or BEIR JSONL (title and text joined by a space), optionally .gz."},
	}
	params = append(params, modelParams()...)
	switch m {
	case MethodDense:
		params = append(params, stage.Param{Name: "dtype", Type: stage.String, Default: "float32", Enum: []string{"float32", "float16"}, Doc: `Storage of the vectors: "float32" or "float16" (half the size; scores from rounded vectors).`})
	case MethodSparse:
		params = append(params, stage.Param{Name: "quantization", Type: stage.Number, Default: 100.0, Min: stage.AtLeast(0), Doc: "Weights are stored as round(w × quantization), as Anserini's impact indexes (100); scores are then exact integer dot products. 0 keeps float32 weights (exact float dot products)."})
	}
	params = append(params,
		stage.Param{Name: "shard_size", Type: stage.Number, Default: 1000.0, Integer: true, Min: stage.Above(0), Meta: true, Doc: "Documents per encoding shard: the unit committed to the checkpoint directory, so a killed build resumes after its last whole shard."},
		stage.Param{Name: "memory_mb", Type: stage.Number, Default: 2048.0, Min: stage.AtLeast(64), Meta: true, Doc: "Memory budget of the build in MiB: bounds the tokens per batch of vocabulary-sized (MLM) heads and the index writer's buffers."},
	)
	k := &stage.Kind{
		Block: "index", Method: m, Version: 1,
		Uses:    []string{libtorch.Name, components.Tokenizer},
		Doc:     "Encodes documents with a bi-encoder and builds an exact " + m + " index: " + methodDocs[m],
		Params:  params,
		Outputs: []stage.Output{{Name: "index", Path: "index/", Format: Format(m), Doc: "The index directory (docs/neural-retrieval.md)."}},
		Check:   device.CheckPrecision,
		Run:     func(ctx context.Context, job *stage.Job) error { return runIndex(ctx, job, m) },
	}
	return k
}

// SearchKind describes `search` with method m.
func SearchKind(m string) *stage.Kind {
	params := []stage.Param{
		{Name: "index", Type: stage.Input, Required: true, Accepts: []string{Format(m)}, Doc: "An index made by index method " + m + "."},
		{Name: "queries", Type: stage.Input, Required: true, Accepts: []string{stage.FormatQueries}, Doc: "Queries: id<TAB>text (.tsv) or BEIR JSONL."},
	}
	params = append(params, modelParams()...)
	params = append(params,
		stage.Param{Name: "k", Type: stage.Number, Default: 1000.0, Integer: true, Min: stage.Above(0), Doc: "Hits per query."},
		stage.Param{Name: "remove_query", Type: stage.Bool, Default: false, Doc: "Drop a hit whose id equals the query id (Pyserini's --remove-query for BEIR)."},
	)
	if isANN(m) {
		params = append(params, annSearchParams(m)...)
	}
	k := &stage.Kind{
		Block: "search", Method: m, Version: 1,
		Uses:    []string{libtorch.Name, components.Tokenizer, Format(m)},
		Doc:     "Encodes queries with the model the index was built with and retrieves the exact top-k from a " + m + " index: " + methodDocs[m],
		Params:  params,
		Outputs: []stage.Output{{Name: "run", Path: "run.trec", Format: stage.FormatRun, Doc: "TREC run, trec_eval order."}},
		Check:   device.CheckPrecision,
		Run:     func(ctx context.Context, job *stage.Job) error { return runSearch(ctx, job, m) },
	}
	if isANN(m) {
		k.Doc = "Encodes queries with the model the index was built with and retrieves the approximate top-k from an " + m + " index: " + methodDocs[m]
		k.Check = func(params map[string]any) error {
			if err := device.CheckPrecision(params); err != nil {
				return err
			}
			return checkANNSearch(params)
		}
		k.CheckUpstream = checkANNSearchUpstream
	}
	if m == MethodSeismic {
		seismicSearchKind(k)
	}
	return k
}

// indexInfo is neural.json: what search must know and check about an index.
type indexInfo struct {
	Format int    `json:"format"`
	Method string `json:"method"`
	// Model is the digest of the model files (modelDigest); Head the head
	// the documents were encoded with. Search refuses another model.
	Model string        `json:"model"`
	Head  heads.Options `json:"head"`
	Docs  int           `json:"docs"`
	Dim   int           `json:"dim"`
}

const (
	infoFile = "neural.json"
	dataDir  = "data"
)

// loadModel resolves and loads the stage's model with its head, checking
// that the head suits method m.
func loadModel(ctx context.Context, job *stage.Job, m string, onBatch *func(int)) (*inference.Model, string, error) {
	if a := job.String("head"); a != "" && (!slices.Contains(heads.Architectures(), a) || a == heads.Mono) {
		return nil, "", fmt.Errorf("%s: head = %q: want one of %q", job.Address, a, biEncoders())
	}
	dir, err := hf.DefaultHub().ResolveModel(ctx, job.String("model"))
	if err != nil {
		return nil, "", fmt.Errorf("%s: model: %w", job.Address, err)
	}
	dev, err := device.Of(job)
	if err != nil {
		return nil, "", err
	}
	model, err := inference.Load(ctx, dir, inference.Options{
		Head:          job.String("head"),
		Device:        dev,
		DType:         job.String(device.PrecisionName),
		HeadOverrides: job.StringMap("head_options"),
		Threads:       job.Threads,
		BatchSize:     job.Int("batch_size"),
		Progress: func(n int) {
			if onBatch != nil && *onBatch != nil {
				(*onBatch)(n)
			}
		},
	})
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", job.Address, err)
	}
	if err := checkHead(baseMethod(m), model.Head); err != nil {
		model.Close()
		return nil, "", fmt.Errorf("%s: model %s: %w", job.Address, dir, err)
	}
	digest, err := modelDigest(dir)
	if err != nil {
		model.Close()
		return nil, "", err
	}
	return model, digest, nil
}

func biEncoders() []string {
	return slices.DeleteFunc(heads.Architectures(), func(a string) bool { return a == heads.Mono })
}

// checkHead says whether a head produces what method m indexes.
func checkHead(m string, h heads.Options) error {
	what := describe(h.Architecture, h.Projection, h.Sparsification, h.DocPooling)
	switch {
	case h.Indexable() != nil:
		return h.Indexable()
	case h.IsCrossEncoder():
		return fmt.Errorf("its head %s is a cross-encoder, which scores query–document pairs and has no document vectors to index: use re_rank, or a bi-encoder head (%q)", h.Architecture, biEncoders())
	case m == MethodMultivector && !h.MultiVector():
		return fmt.Errorf("index method multivector needs a multi-vector head (col, no pooling); this model's head is %s: use method dense", what)
	case m != MethodMultivector && h.MultiVector():
		return fmt.Errorf("its head %s keeps one vector per token: use method multivector", what)
	case m == MethodSparse && h.Projection != "mlm" && h.Sparsification == "":
		return fmt.Errorf("index method sparse needs a sparse head (an MLM projection or a sparsification, e.g. head = \"splade\"); this model's head is %s: use method dense", what)
	case m == MethodSparse && h.Similarity != "dot":
		return fmt.Errorf("a sparse index scores by dot product; this head's similarity is %q", h.Similarity)
	case m == MethodDense && h.Projection == "mlm":
		return fmt.Errorf("its head %s gives vocabulary-sized sparse vectors: use method sparse", what)
	}
	return nil
}

// modelDigest is the sha256 of a model directory's files (names and
// contents, sorted, links followed), recorded in an index so that search
// can refuse to encode queries with another model.
func modelDigest(dir string) (string, error) {
	dir, err := filepath.EvalSymlinks(dir) // WalkDir does not follow a linked root
	if err != nil {
		return "", err
	}
	var files []string
	err = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != dir && d.Name()[0] == '.' {
			return filepath.SkipDir
		}
		if !d.IsDir() && d.Name()[0] != '.' {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	h := sha256.New()
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00", filepath.ToSlash(rel))
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// maxBatchTokens bounds batch × length for heads whose per-token output is
// vocabulary-sized (MLM): the logits, their sparsified copy and the pooled
// mask take about 4 × vocab × 4 bytes per token, which must fit in a third
// of the memory budget. 0 leaves inference's default.
func maxBatchTokens(memoryMB float64, vocab int, mlm bool) int {
	if !mlm || vocab <= 0 {
		return 0
	}
	budget := memoryMB * (1 << 20) / 3
	return max(512, int(budget/float64(16*vocab)))
}

// limitMemory holds the Go heap under the budget while fn runs.
func limitMemory(memoryMB float64) func() {
	if memoryMB <= 0 {
		return func() {}
	}
	budget := int64(memoryMB * (1 << 20))
	limit := budget - min(64<<20, budget/4)
	old := debug.SetMemoryLimit(-1)
	if limit >= old {
		return func() {}
	}
	debug.SetMemoryLimit(limit)
	return func() { debug.SetMemoryLimit(old) }
}

func writeInfo(dir string, info indexInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, infoFile), append(b, '\n'), 0o644)
}

// readInfo finds neural.json in an index output (the stage's output
// directory or its index/ folder) and checks it was made by method m.
func readInfo(path, m string) (indexInfo, string, error) {
	dir := path
	if _, err := os.Stat(filepath.Join(dir, infoFile)); err != nil {
		if _, err2 := os.Stat(filepath.Join(dir, "index", infoFile)); err2 == nil {
			dir = filepath.Join(dir, "index")
		}
	}
	var info indexInfo
	b, err := os.ReadFile(filepath.Join(dir, infoFile))
	if err != nil {
		_, bm25 := os.Stat(filepath.Join(dir, "meta.json"))
		_, bm25Out := os.Stat(filepath.Join(dir, "index", "meta.json"))
		if bm25 == nil || bm25Out == nil {
			return info, dir, fmt.Errorf("%s is not a neural index (it looks like a BM25 index): search it with method bm25", path)
		}
		return info, dir, fmt.Errorf("%s is not a neural index (no %s): give the index output of an index block with method %s", path, infoFile, m)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, dir, fmt.Errorf("%s: %v", filepath.Join(dir, infoFile), err)
	}
	if info.Format != InfoFormat {
		return info, dir, fmt.Errorf("%s: neural index format %d, this irflow reads %d: rebuild the index", filepath.Join(dir, infoFile), info.Format, InfoFormat)
	}
	if info.Method != m {
		return info, dir, fmt.Errorf("%s is a %s index; search method %s cannot read it: use method = %q", path, info.Method, m, info.Method)
	}
	return info, dir, nil
}

func finite(vs []float32) bool {
	for _, v := range vs {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return false
		}
	}
	return true
}
