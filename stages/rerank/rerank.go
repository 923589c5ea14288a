// Package rerank registers the `re_rank` stage: it re-scores the top
// `depth` documents of every query of a TREC run with a transformer ranking
// model (bi-encoder or cross-encoder, models/inference) and writes the
// re-ordered run. It is glue between the pipeline and the model library.
package rerank

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/inference"
	"github.com/irflow/irflow/pipeline/stage"
	"github.com/irflow/irflow/stages/components"
	"github.com/irflow/irflow/stages/components/libtorch"
	"github.com/irflow/irflow/stages/device"
)

// Method is the kind's method name (the default of block re_rank).
const Method = "transformer"

// Tag is the run tag written into run.trec.
const Tag = "irflow-rerank"

func init() {
	stage.Register(Kind())
}

// Kind describes the `re_rank` block.
func Kind() *stage.Kind {
	return &stage.Kind{
		Block: "re_rank", Method: Method, Version: 2,
		Uses: []string{libtorch.Name, components.Tokenizer},
		Doc:  "Re-scores the top `depth` hits of each query with a transformer ranking model (Lightning IR heads: DPR, Col, SPLADE, sentence-transformers, mono; Set-Encoder models score a query's hits together in one listwise pass, at most the model's own depth).",
		Params: []stage.Param{
			{Name: "run", Type: stage.Input, Required: true, Accepts: []string{stage.FormatRun}, Doc: "The TREC run to re-rank."},
			{Name: "queries", Type: stage.Input, Required: true, Accepts: []string{stage.FormatQueries}, Doc: "Queries: id<TAB>text (.tsv) or BEIR JSONL."},
			{Name: "docs", Type: stage.Input, Required: true, Accepts: []string{stage.FormatDocs}, Doc: "Documents: id<TAB>text (.tsv) or BEIR JSONL (title and text are joined by a space)."},
			{Name: "model", Type: stage.Input, Required: true, Schemes: []string{hf.ModelScheme}, Accepts: []string{stage.FormatModel}, Doc: `A model directory, or "hf:org/name[@revision]" fetched through the Hugging Face cache by ` + "`irflow run`" + `. Either way the files' content is part of the cache key.`},
			{Name: "head", Type: stage.String, Default: "", Enum: append([]string{""}, heads.Architectures()...), Doc: `Head preset overriding the model's own: "dpr", "col", "splade", "sentence-transformers" or "mono"; "" = from the model directory.`},
			{Name: "head_options", Type: stage.StringMap, Default: map[string]string{}, Check: heads.CheckOverrides, Doc: `Single head options on top of the preset or the model's own, by Lightning IR's names, e.g. { scoring_strategy = "rank" } for a RankT5 checkpoint, { doc_length = "256" } (models/heads.Options).`},
			{Name: "depth", Type: stage.Number, Default: 100.0, Integer: true, Min: stage.Above(0), Doc: "Hits per query to re-score; the rest are dropped."},
			{Name: "batch_size", Type: stage.Number, Default: 8.0, Integer: true, Min: stage.Above(0), Meta: true, Doc: "Texts (or pairs) per forward pass."},
			device.Param(),
			device.PrecisionParam(),
		},
		Outputs: []stage.Output{{Name: "run", Path: "run.trec", Format: stage.FormatRun, Doc: "The re-scored run, trec_eval order."}},
		Check:   device.CheckPrecision,
		Run:     run,
	}
}

// run re-ranks; the loader has checked depth, head and the inputs'
// formats against their declarations.
func run(ctx context.Context, job *stage.Job) error {
	depth := job.Int("depth")
	runFile, err := trec.ReadRunFile(job.String("run"))
	if err != nil {
		return err
	}
	queries, err := collection.ReadQueriesFile(job.String("queries"))
	if err != nil {
		return err
	}
	qtext := make(map[string]string, len(queries))
	for _, q := range queries {
		qtext[q.ID] = q.Text
	}
	need := map[string]bool{}
	for qid, hits := range runFile {
		if _, ok := qtext[qid]; !ok {
			return fmt.Errorf("%s: query %q of the run is not in %s", job.Address, qid, job.String("queries"))
		}
		trec.SortHits(hits)
		if len(hits) > depth {
			runFile[qid] = hits[:depth]
		}
		for _, h := range runFile[qid] {
			need[h.DocID] = true
		}
	}
	docs, err := collection.ModelTextsOf(job.String("docs"), need)
	if err != nil {
		return err
	}
	for id := range need {
		if _, ok := docs[id]; !ok {
			return fmt.Errorf("%s: document %q of the run is not in %s", job.Address, id, job.String("docs"))
		}
	}
	dir, err := hf.DefaultHub().ResolveModel(ctx, job.String("model"))
	if err != nil {
		return fmt.Errorf("%s: model: %w", job.Address, err)
	}
	// The bar being fed by the model's per-batch callback; nil between
	// phases. Workers read it after the phase set it (channel hand-off).
	var encoding atomic.Pointer[progressBox]
	dev, err := device.Of(job)
	if err != nil {
		return err
	}
	m, err := inference.Load(ctx, dir, inference.Options{
		Head:          job.String("head"),
		HeadOverrides: job.StringMap("head_options"),
		Device:        dev,
		DType:         job.String(device.PrecisionName),
		Threads:       job.Threads,
		BatchSize:     job.Int("batch_size"),
		Progress: func(n int) {
			if b := encoding.Load(); b != nil {
				b.p.Add(int64(n))
			}
		},
	})
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	defer m.Close()
	if job.Log != nil {
		job.Log.Info("model loaded", "dir", dir, "head", m.Head.Architecture, "queries", len(runFile), "docs", len(need))
	}
	phase := func(desc string, total int, work func() error) error {
		if job.Progress != nil {
			b := &progressBox{job.Progress(desc, int64(total))}
			encoding.Store(b)
			defer func() { encoding.Store(nil); b.p.Done() }()
		}
		return work()
	}
	score, err := Scorer(ctx, m, runFile, qtext, docs, phase)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}

	out, err := os.Create(filepath.Join(job.OutDir, "run.trec"))
	if err != nil {
		return err
	}
	defer out.Close()
	w, err := trec.NewRunWriter(out, Tag)
	if err != nil {
		return err
	}
	var prog stage.Progress
	if job.Progress != nil {
		prog = job.Progress("re-ranking queries", int64(len(runFile)))
		defer prog.Done()
	}
	pairs := 0
	for _, qid := range runFile.QueryIDs() {
		hits := runFile[qid]
		scores, err := score(qid)
		if err != nil {
			return fmt.Errorf("%s: query %s: %w", job.Address, qid, err)
		}
		rescored := make([]trec.Hit, len(hits))
		for i, h := range hits {
			rescored[i] = trec.Hit{DocID: h.DocID, Score: float64(scores[i])}
		}
		if err := w.WriteQuery(qid, rescored); err != nil {
			return err
		}
		pairs += len(hits)
		if prog != nil {
			prog.Add(1)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	job.SetMetric("pairs", float64(pairs))
	return out.Close()
}

type progressBox struct{ p stage.Progress }

// Scorer returns a function scoring the hits of one query. A cross-encoder
// scores each pair when asked, and a listwise one (Set-Encoder) gets the
// query's whole list in one call, which models/inference runs as one
// forward pass; a bi-encoder first encodes every query and
// every distinct document once (a document retrieved for many queries is
// not encoded again), each as a phase with its own progress display.
func Scorer(ctx context.Context, m *inference.Model, run trec.Run, qtext, docs map[string]string,
	phase func(desc string, total int, work func() error) error) (func(qid string) ([]float32, error), error) {
	if m.Head.IsCrossEncoder() {
		return func(qid string) ([]float32, error) {
			hits := run[qid]
			texts := make([]string, len(hits))
			for i, h := range hits {
				texts[i] = docs[h.DocID]
			}
			return m.Score(ctx, qtext[qid], texts)
		}, nil
	}
	qids := run.QueryIDs()
	qPos := make(map[string]int, len(qids))
	qs := make([]string, len(qids))
	for i, q := range qids {
		qPos[q], qs[i] = i, qtext[q]
	}
	dPos := map[string]int{}
	var ds []string
	for _, q := range qids {
		for _, h := range run[q] {
			if _, ok := dPos[h.DocID]; !ok {
				dPos[h.DocID] = len(ds)
				ds = append(ds, docs[h.DocID])
			}
		}
	}
	var qEmb, dEmb *inference.Embeddings
	err := phase("encoding queries", len(qs), func() (err error) {
		qEmb, err = m.EncodeQueries(ctx, qs)
		return err
	})
	if err != nil {
		return nil, err
	}
	err = phase("encoding documents", len(ds), func() (err error) {
		dEmb, err = m.EncodeDocs(ctx, ds)
		return err
	})
	if err != nil {
		return nil, err
	}
	return func(qid string) ([]float32, error) {
		idx := make([]int, len(run[qid]))
		for i, h := range run[qid] {
			idx[i] = dPos[h.DocID]
		}
		return m.ScoreEmbeddings(ctx, qEmb, qPos[qid], dEmb.Subset(idx))
	}, nil
}

// ReRank re-scores every query's hits of run (already cut to the depth
// wanted) with m and returns the re-scored run; fit's validation uses it.
func ReRank(ctx context.Context, m *inference.Model, run trec.Run, qtext, docs map[string]string) (trec.Run, error) {
	noPhase := func(_ string, _ int, work func() error) error { return work() }
	score, err := Scorer(ctx, m, run, qtext, docs, noPhase)
	if err != nil {
		return nil, err
	}
	out := make(trec.Run, len(run))
	for qid, hits := range run {
		scores, err := score(qid)
		if err != nil {
			return nil, fmt.Errorf("query %s: %w", qid, err)
		}
		rescored := make([]trec.Hit, len(hits))
		for i, h := range hits {
			rescored[i] = trec.Hit{DocID: h.DocID, Score: float64(scores[i])}
		}
		out[qid] = rescored
	}
	return out, nil
}
