package neural

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"

	densex "github.com/irflow/irflow/index/dense"
	multix "github.com/irflow/irflow/index/multivector"
	sparsex "github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/inference"
	"github.com/irflow/irflow/pipeline/stage"
	denses "github.com/irflow/irflow/search/dense"
	multis "github.com/irflow/irflow/search/multivector"
	sparses "github.com/irflow/irflow/search/sparse"
)

// hit is one search result before it becomes a run line.
type hit struct {
	ID    string
	Score float64
}

func runSearch(ctx context.Context, job *stage.Job, m string) error {
	k := job.Int("k")
	if k <= 0 {
		return fmt.Errorf("%s: k = %v: want a positive number", job.Address, job.Float("k"))
	}
	info, dir, err := readInfo(job.String("index"), m)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	qs, err := collection.ReadQueriesFile(job.String("queries"))
	if err != nil {
		return err
	}
	if len(qs) == 0 {
		return fmt.Errorf("%s: %s holds no queries", job.Address, job.String("queries"))
	}
	model, digest, err := loadModel(ctx, job, m, nil)
	if err != nil {
		return err
	}
	defer model.Close()
	if digest != info.Model {
		return fmt.Errorf("%s: the index %s was encoded with another model (%s) than this search's (%s): queries and documents must be encoded by the same model",
			job.Address, dir, short(info.Model), short(digest))
	}
	if diff := headDiff(info.Head, model.Head); len(diff) > 0 {
		return fmt.Errorf("%s: the index %s was encoded with other head options than this search's (%s): queries and documents must be encoded by the same head (set them in both blocks' head_options)",
			job.Address, dir, strings.Join(diff, "; "))
	}
	texts := make([]string, len(qs))
	for i, q := range qs {
		texts[i] = q.Text
	}
	emb, err := model.EncodeQueries(ctx, texts)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	if emb.Dim != info.Dim && m != MethodSparse {
		return fmt.Errorf("%s: queries encode to %d dimensions but the index holds %d", job.Address, emb.Dim, info.Dim)
	}
	want := k
	if job.Bool("remove_query") {
		want++ // one hit may be the query itself
	}
	var prog stage.Progress
	var progress func(int64)
	if job.Progress != nil {
		prog = job.Progress("searching", int64(len(qs)))
		defer prog.Done()
		progress = prog.Add
	}
	data := filepath.Join(dir, dataDir)
	var results [][]hit
	switch m {
	case MethodDense:
		results, err = searchDense(ctx, data, emb, want, job.Threads, progress)
	case MethodSparse:
		results, err = searchSparse(ctx, data, qs, emb, want, job.Threads, progress)
	case MethodIVF, MethodPQ, MethodIVFPQ:
		results, err = searchANN(ctx, job, m, dir, emb, want, progress)
	case MethodSeismic:
		results, err = searchSeismic(ctx, job, dir, qs, emb, want, progress)
	case MethodPLAID:
		results, err = searchPLAID(ctx, job, dir, emb, model.Head.QueryAggregation, want, progress)
	case MethodMultivector:
		results, err = searchMulti(ctx, data, emb, model.Head.QueryAggregation, want, job.Threads, progress)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	return writeRun(filepath.Join(job.OutDir, "run.trec"), "irflow-"+m, qs, results, k, job.Bool("remove_query"))
}

func short(d string) string {
	if len(d) > 12 {
		return d[:12]
	}
	return d
}

func searchDense(ctx context.Context, dir string, emb *inference.Embeddings, k, threads int, progress func(int64)) ([][]hit, error) {
	ix, err := densex.Open(dir)
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	flat := make([]float32, 0, len(emb.Vectors)*emb.Dim)
	for _, v := range emb.Vectors {
		flat = append(flat, v...)
	}
	res, err := denses.SearchAll(ctx, ix, flat, denses.Options{K: k, Threads: threads, Progress: progress})
	return hits(res, func(h denses.Hit) hit { return hit{h.ID, h.Score} }), err
}

func searchSparse(ctx context.Context, dir string, qs []collection.Query, emb *inference.Embeddings, k, threads int, progress func(int64)) ([][]hit, error) {
	ix, err := sparsex.Open(dir)
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	if v := ix.Meta().VocabSize; v != emb.Dim {
		return nil, fmt.Errorf("queries encode to %d vocabulary weights but the index has a vocabulary of %d", emb.Dim, v)
	}
	queries := make([]sparses.Query, len(qs))
	for i, q := range qs {
		terms, weights := sparseOf(emb.Vectors[i])
		queries[i] = sparses.Query{ID: q.ID, Terms: terms, Weights: weights}
	}
	res, err := sparses.SearchAll(ctx, ix, queries, sparses.Options{K: k, Threads: threads, Progress: progress})
	return hits(res, func(h sparses.Hit) hit { return hit{h.ID, h.Score} }), err
}

func searchMulti(ctx context.Context, dir string, emb *inference.Embeddings, queryAgg string, k, threads int, progress func(int64)) ([][]hit, error) {
	ix, err := multix.Open(dir)
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	queries := make([]multis.Query, len(emb.Vectors))
	for i := range queries {
		queries[i] = multis.Query{Vectors: emb.Vectors[i], Mask: emb.Mask[i]}
	}
	res, err := multis.SearchAll(ctx, ix, queries, multis.Options{K: k, Threads: threads, QueryAggregation: queryAgg, Progress: progress})
	return hits(res, func(h multis.Hit) hit { return hit{h.ID, h.Score} }), err
}

// hits converts a search package's results.
func hits[H any](res [][]H, conv func(H) hit) [][]hit {
	out := make([][]hit, len(res))
	for i, hs := range res {
		for _, h := range hs {
			out[i] = append(out[i], conv(h))
		}
	}
	return out
}

// writeRun writes the top k of every query (without the query's own id
// when removeQuery is set).
func writeRun(path, tag string, qs []collection.Query, results [][]hit, k int, removeQuery bool) error {
	qids := make([]string, len(qs))
	for i, q := range qs {
		qids[i] = q.ID
	}
	return trec.WriteRunFileOrdered(path, tag, qids, func(i int) []trec.Hit {
		hits := make([]trec.Hit, 0, k)
		for _, h := range results[i] {
			if len(hits) < k && !(removeQuery && h.ID == qids[i]) {
				hits = append(hits, trec.Hit{DocID: h.ID, Score: h.Score})
			}
		}
		return hits
	})
}

// docOnly are the head options that shape only the documents' encoding,
// which the index has already done: a search may leave them at the
// model's defaults (an index built with doc_length = 512 of a model saved
// with 192 is searched with the model as saved).
var docOnly = map[string]bool{"doc_length": true, "doc_expansion": true, "attend_to_doc_expanded_tokens": true, "doc_mask_scoring_tokens": true}

// headDiff lists the options, by Lightning IR's names, in which the head
// a search encodes queries with differs from the index's ("name: index
// value, search value"), leaving out the documents-only ones.
func headDiff(index, search heads.Options) []string {
	a, b := reflect.ValueOf(index), reflect.ValueOf(search)
	var diff []string
	for i := 0; i < a.NumField(); i++ {
		name := strings.Split(a.Type().Field(i).Tag.Get("json"), ",")[0]
		if docOnly[name] || reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			continue
		}
		diff = append(diff, fmt.Sprintf("%s: index %v, search %v", name, a.Field(i).Interface(), b.Field(i).Interface()))
	}
	return diff
}
