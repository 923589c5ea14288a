package recipe_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/datasets"
	"github.com/irflow/irflow/pipeline/recipe"
	"github.com/irflow/irflow/pipeline/recipe/recipetest"
)

// inPlace resolves datasets to the shared collections where they lie (the
// catalog's layout is shared/data's), without a store or copies, and
// counts the calls.
func inPlace(t *testing.T, calls map[string]int) func(string) (*datasets.Paths, error) {
	root := testenv.SharedData(t)
	return func(name string) (*datasets.Paths, error) {
		calls[name]++
		d, ok := datasets.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("not catalogued: %s", name)
		}
		at := func(p string) string { return filepath.Join(root, filepath.FromSlash(p)) }
		p := &datasets.Paths{Name: name, Docs: at(d.Docs), Corpus: at(d.Corpus), Queries: at(d.Queries), Qrels: at(d.Qrels)}
		for sys, r := range d.Runs {
			if p.Runs == nil {
				p.Runs = map[string]string{}
			}
			p.Runs[sys] = at(r)
		}
		return p, nil
	}
}

func writeRecipe(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "r.hcl")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestDatasetCollection: a collection naming a dataset has its files at
// the resolved paths, as pinned inputs whose pins are the content's
// sha256 (hashed here from the shared files, not taken from the catalog),
// and stages read them.
func TestDatasetCollection(t *testing.T) {
	root := testenv.SharedData(t)
	cases := []struct {
		name string
		// files by address suffix → path under shared/data
		files map[string]string
		runs  bool
	}{
		{"adi", map[string]string{"docs": "adi/docs.tsv", "corpus": "adi/corpus.jsonl", "queries": "adi/queries.tsv", "qrels": "adi/qrels.txt"}, false},
		{"beir/scifact/train", map[string]string{"docs": "scifact/docs.tsv", "corpus": "scifact/corpus.jsonl", "queries": "scifact/queries.train.tsv", "qrels": "scifact/qrels.train.txt"}, false},
		{"msmarco-passage/trec-dl-2019/judged", map[string]string{
			"docs": "msmarco-passage/rerank/passages.tsv", "corpus": "msmarco-passage/rerank/corpus.jsonl",
			"queries": "msmarco-passage/queries.dl19.tsv", "qrels": "msmarco-passage/qrels.dl19.txt",
			"runs.bm25": "msmarco-passage/rerank/runs/bm25.dl19.top100.trec", "runs.bm25-rm3": "msmarco-passage/rerank/runs/bm25-rm3.dl19.top100.trec",
			"runs.splade-pp-ed": "msmarco-passage/rerank/runs/splade-pp-ed.dl19.top100.trec", "runs.tasb": "msmarco-passage/rerank/runs/tasb.dl19.top100.trec",
		}, true},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, "/", "_"), func(t *testing.T) {
			text := fmt.Sprintf(`
collection "c" { dataset = %q }

index "flat" { docs = collection.c.docs }

search "bm25" {
  index   = index.flat.index
  queries = collection.c.queries
}

evaluate "e" {
  run     = search.bm25.run
  qrels   = collection.c.qrels
  metrics = ["nDCG@10"]
}
`, c.name)
			if c.runs {
				text += `
evaluate "given" {
  run     = collection.c.runs.bm25-rm3
  qrels   = collection.c.qrels
  metrics = ["nDCG@10"]
}
`
			}
			calls := map[string]int{}
			r := load(t, writeRecipe(t, text), recipe.Options{Dataset: inPlace(t, calls)})
			if calls[c.name] != 1 {
				t.Errorf("resolved %v, want once", calls)
			}
			got := map[string]*recipe.InputFile{}
			for _, in := range r.Inputs {
				got[in.Address] = in
			}
			if len(got) != len(c.files) {
				t.Errorf("%d inputs, want %d: %v", len(got), len(c.files), got)
			}
			for suffix, rel := range c.files {
				in := got["collection.c."+suffix]
				if in == nil {
					t.Errorf("no input collection.c.%s", suffix)
					continue
				}
				want := filepath.Join(root, filepath.FromSlash(rel))
				if in.Path != want || in.Dataset != c.name {
					t.Errorf("%s: path %s dataset %q, want %s %q", in.Address, in.Path, in.Dataset, want, c.name)
				}
				if sum := fileSHA(t, want); in.Pin != sum {
					t.Errorf("%s: pin %s, file sha256 %s", in.Address, in.Pin, sum)
				}
				if in.Range.Start.Line != 2 || in.PinRange.Start.Line != 2 {
					t.Errorf("%s: ranges %v %v, want the dataset attribute", in.Address, in.Range, in.PinRange)
				}
			}
			if p := r.Stage("index.flat").Params["docs"].(recipe.Input).Path; p != got["collection.c.docs"].Path {
				t.Errorf("index docs %s", p)
			}
			if p := r.Stage("evaluate.e").Params["qrels"].(recipe.Input).Path; p != got["collection.c.qrels"].Path {
				t.Errorf("evaluate qrels %s", p)
			}
			if c.runs {
				if p := r.Stage("evaluate.given").Params["run"].(recipe.Input).Path; p != got["collection.c.runs.bm25-rm3"].Path {
					t.Errorf("evaluate run %s", p)
				}
			}
		})
	}
}

// TestDatasetRecipeErrors: what the loader reports about dataset
// collections, each at its position.
func TestDatasetRecipeErrors(t *testing.T) {
	adi := testenv.Collection(t, "adi")
	// A resolver handing out a copy of adi with one byte of the qrels
	// changed: the loader must notice by hashing, not trust the resolver.
	tampered := t.TempDir()
	for _, f := range []string{"docs.tsv", "corpus.jsonl", "queries.tsv", "qrels.txt"} {
		b, err := os.ReadFile(filepath.Join(adi, f))
		if err != nil {
			t.Fatal(err)
		}
		if f == "qrels.txt" {
			b[10] ^= 1
		}
		if err := os.WriteFile(filepath.Join(tampered, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tamperedQrels := fileSHA(t, filepath.Join(tampered, "qrels.txt"))
	at := func(dir string) func(string) (*datasets.Paths, error) {
		return func(name string) (*datasets.Paths, error) {
			j := func(f string) string { return filepath.Join(dir, f) }
			return &datasets.Paths{Name: name, Docs: j("docs.tsv"), Corpus: j("corpus.jsonl"), Queries: j("queries.tsv"), Qrels: j("qrels.txt")}, nil
		}
	}
	failing := func(string) (*datasets.Paths, error) {
		return nil, errors.New("dataset adi: datasets: adi/docs.tsv: not in the dataset store /nowhere")
	}
	calls := map[string]int{}
	cases := []struct {
		name    string
		recipe  string
		resolve func(string) (*datasets.Paths, error)
		want    string // "L:C summary; fragment; …"
	}{
		{"content differs from the catalog", `collection "c" { dataset = "adi" }`, at(tampered),
			"1:28 Dataset file does not match the catalog; collection.c.qrels; has sha256 " + tamperedQrels + "; catalog pins b2b569545f9a7067de6071e4a84d18d0ff3bc29bfe6b343deffb72ae2152aa43; irflow datasets verify adi"},
		{"resolver fails", `collection "c" { dataset = "adi" }`, failing,
			"1:28 Cannot resolve dataset; collection.c: dataset adi: datasets: adi/docs.tsv: not in the dataset store /nowhere"},
		{"no resolver", `collection "c" { dataset = "adi" }`, nil,
			"1:28 Datasets not supported here; collection.c: dataset \"adi\""},
		{"suffix suggestion", `collection "c" { dataset = "scifact/test" }`, inPlace(t, calls),
			"1:28 Unknown dataset; Did you mean \"beir/scifact/test\"?"},
		{"not a string", `collection "c" { dataset = ["adi"] }`, inPlace(t, calls),
			"1:28 Invalid dataset; is a catalogued name"},
		{"unknown file of a dataset", "collection \"c\" { dataset = \"adi\" }\nindex \"i\" { docs = collection.c.doc }", inPlace(t, calls),
			"2:32 Unsupported attribute; collection.c has no file \"doc\"; its files are: docs, corpus, queries, qrels, runs; Did you mean collection.c.docs?"},
		{"qrels as documents", "collection \"c\" { dataset = \"adi\" }\nindex \"i\" { docs = collection.c.qrels }", inPlace(t, calls),
			"2:20 Input of the wrong format; takes docs; but collection.c.qrels is qrels"},
		{"run and qrels swapped", "collection \"c\" { dataset = \"msmarco-passage/trec-dl-2019/judged\" }\n" +
			"evaluate \"e\" {\n  run = collection.c.qrels\n  qrels = collection.c.runs.tasb\n}", inPlace(t, calls),
			"3:9 Input of the wrong format; but collection.c.qrels is qrels; It fits \"qrels\": are the two swapped?"},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			path := writeRecipe(t, c.recipe)
			_, diags := recipe.Load(path, recipe.Options{Dataset: c.resolve})
			w := parseWant(t, c.want)
			if !slices.ContainsFunc(diags, func(d *hcl.Diagnostic) bool { return w.Matches(d) }) {
				t.Errorf("want %s\ngot:%s", w, recipetest.Describe(diags))
			}
		})
	}
}

func parseWant(t *testing.T, s string) recipetest.Want {
	t.Helper()
	pos, rest, _ := strings.Cut(s, " ")
	var w recipetest.Want
	if _, err := fmt.Sscanf(pos, "%d:%d", &w.Line, &w.Col); err != nil {
		t.Fatalf("want %q: %v", s, err)
	}
	w.File = "r.hcl"
	w.Fragments = strings.Split(rest, "; ")
	return w
}

// TestDatasetWithOwnFilesAndVariable: a dataset collection may add files
// of its own (pinned as before), and its name may come from a variable.
func TestDatasetWithOwnFilesAndVariable(t *testing.T) {
	run := filepath.Join("testdata", "inputs", "run.trec")
	abs, _ := filepath.Abs(run)
	sum := fileSHA(t, abs)
	text := fmt.Sprintf(`
variable "set" { default = "adi" }

collection "c" {
  dataset = var.set
  mine    = %q
  sha256  = { mine = %q }
}

evaluate "e" {
  run   = collection.c.mine
  qrels = collection.c.qrels
}
`, abs, sum)
	path := writeRecipe(t, text)
	for _, tc := range []struct {
		vars []string
		want string
	}{
		{nil, "adi"},
		{[]string{"set=beir/scifact/test"}, "beir/scifact/test"},
	} {
		calls := map[string]int{}
		r := load(t, path, recipe.Options{Vars: tc.vars, Dataset: inPlace(t, calls)})
		if !reflect.DeepEqual(calls, map[string]int{tc.want: 1}) {
			t.Errorf("%v: resolved %v", tc.vars, calls)
		}
		var mine *recipe.InputFile
		for _, in := range r.Inputs {
			if in.Address == "collection.c.mine" {
				mine = in
			}
		}
		if mine == nil || mine.Pin != sum || mine.Dataset != "" {
			t.Errorf("own file: %+v", mine)
		}
		d, _ := datasets.Lookup(tc.want)
		if q := r.Stage("evaluate.e").Params["qrels"].(recipe.Input).Path; !strings.HasSuffix(q, filepath.FromSlash(d.Qrels)) {
			t.Errorf("%v: qrels %s, want %s", tc.vars, q, d.Qrels)
		}
	}
}
