package neural

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"testing"

	sparsex "github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/index/sparse/synth"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/models/inference"
	"github.com/irflow/irflow/pipeline/stage"
)

// TestSeismicStage runs index method seismic on a sparse index output
// (made here without a model: synthetic vectors and its neural.json),
// twice with 1 and 3 threads (byte-identical files), and searches it
// through the stage's own searchSeismic: with nothing pruned, the hits of
// searchSparse on the same index output.
func TestSeismicStage(t *testing.T) {
	g := synth.New(synth.Config{Docs: 300, Queries: 8, Seed: 5})
	vocab := g.Config().Vocab
	src := t.TempDir()
	docs := iter.Seq2[sparsex.Doc, error](func(yield func(sparsex.Doc, error) bool) {
		for i := range 300 {
			if !yield(g.Doc(i), nil) {
				return
			}
		}
	})
	if _, err := sparsex.Build(context.Background(), docs, filepath.Join(src, "index", dataDir), sparsex.BuildOptions{VocabSize: vocab, Scale: 100, TmpDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	info := indexInfo{Format: InfoFormat, Method: MethodSparse, Model: "m", Docs: 300, Dim: vocab}
	if err := writeInfo(filepath.Join(src, "index"), info); err != nil {
		t.Fatal(err)
	}
	params := map[string]any{"sparse": src}
	for _, p := range seismicIndexKind().Params {
		if p.Default != nil {
			params[p.Name] = p.Default
		}
	}
	params["num_postings"], params["summary_energy"] = 1000.0, 1.0
	var outs []string
	for _, threads := range []int{1, 3} {
		out := t.TempDir()
		if err := seismicIndexKind().Run(context.Background(), &stage.Job{Address: "index.s", Params: params, OutDir: out, Threads: threads}); err != nil {
			t.Fatal(err)
		}
		outs = append(outs, out)
	}
	ents, _ := os.ReadDir(filepath.Join(outs[0], "index", seismicDir))
	if len(ents) < 12 {
		t.Fatalf("%d files in the seismic index", len(ents))
	}
	for _, e := range ents {
		a, _ := os.ReadFile(filepath.Join(outs[0], "index", seismicDir, e.Name()))
		b, _ := os.ReadFile(filepath.Join(outs[1], "index", seismicDir, e.Name()))
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between 1 and 3 threads", e.Name())
		}
	}
	got, dir, err := readInfo(outs[0], MethodSeismic)
	if err != nil || got.Model != "m" || got.Dim != vocab {
		t.Fatalf("neural.json: %+v %v", got, err)
	}
	if _, _, err := readInfo(outs[0], MethodSparse); err == nil {
		t.Error("a seismic index read as a sparse one")
	}

	var qs []collection.Query
	emb := &inference.Embeddings{Dim: vocab}
	for i := range 8 {
		id, terms, weights := g.Query(i)
		v := make([]float32, vocab)
		for j, tm := range terms {
			v[tm] = weights[j]
		}
		qs = append(qs, collection.Query{ID: id})
		emb.Vectors = append(emb.Vectors, v)
	}
	job := &stage.Job{Params: map[string]any{"query_cut": 1000.0, "heap_factor": 1.0, "sorted": true}, Threads: 2}
	approx, err := searchSeismic(context.Background(), job, dir, qs, emb, 20, nil)
	if err != nil {
		t.Fatal(err)
	}
	exact, err := searchSparse(context.Background(), filepath.Join(dir, dataDir), qs, emb, 20, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(approx) != fmt.Sprint(exact) {
		t.Errorf("seismic with nothing pruned differs from sparse:\n%v\n%v", approx[0][:3], exact[0][:3])
	}
}
