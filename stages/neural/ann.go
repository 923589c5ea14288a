package neural

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	densex "github.com/irflow/irflow/index/dense"
	ivfx "github.com/irflow/irflow/index/ivf"
	"github.com/irflow/irflow/internal/durable"
	"github.com/irflow/irflow/models/inference"
	"github.com/irflow/irflow/pipeline/stage"
	ivfs "github.com/irflow/irflow/search/ivf"
)

// Approximate dense methods (index/ivf): Lightning IR's FaissIVFIndexConfig
// (IVF-Flat), FaissPQIndexConfig and FaissIVFPQIndexConfig.
const (
	MethodIVF   = "ivf"
	MethodPQ    = "pq"
	MethodIVFPQ = "ivfpq"
)

// annMethods are the methods built on a dense index plus index/ivf.
var annMethods = []string{MethodIVF, MethodPQ, MethodIVFPQ}

func isANN(m string) bool { return slices.Contains(annMethods, m) }

// annDir is the ivf index inside a neural index directory; the dense index
// it was trained on (ids, exact re-scoring) is dataDir beside it.
const annDir = "ann"

// baseMethod is the exact method whose encoding and head rules an
// approximate method shares.
func baseMethod(m string) string {
	if isANN(m) {
		return MethodDense
	}
	if m == MethodSeismic {
		return MethodSparse
	}
	if m == MethodPLAID {
		return MethodMultivector
	}
	return m
}

// annIndexParams are the training parameters of index method m.
func annIndexParams(m string) []stage.Param {
	var ps []stage.Param
	if m != MethodPQ {
		ps = append(ps, stage.Param{Name: "n_lists", Type: stage.Number, Required: true, Integer: true, Min: stage.Above(0),
			Doc: "Inverted lists: k-means centroids the documents are grouped by (Lightning IR's num_centroids, faiss's nlist)."})
	}
	if m != MethodIVF {
		ps = append(ps,
			stage.Param{Name: "m", Type: stage.Number, Required: true, Integer: true, Min: stage.Above(0),
				Doc: "Sub-quantisers: each vector is stored as m bytes (8-bit codes of m sub-vectors); must divide the model's dimension (Lightning IR's num_subquantizers)."},
			stage.Param{Name: "opq", Type: stage.Bool, Default: false,
				Doc: "Learn an OPQ rotation before quantising (non-parametric OPQ of Ge et al.: alternating codebooks and an orthogonal Procrustes step)."})
	}
	return append(ps,
		stage.Param{Name: "train_size", Type: stage.Number, Default: 0.0, Integer: true, Min: stage.AtLeast(0),
			Doc: "Documents, drawn at random with the seed, that k-means (and OPQ) train on; 0 = all (Lightning IR's num_train_embeddings). At least n_lists, and 256 for product quantisation."},
		stage.Param{Name: "iterations", Type: stage.Number, Default: float64(ivfx.DefaultIterations), Integer: true, Min: stage.Above(0),
			Doc: "Lloyd iterations of every k-means (faiss's default 25); k-means++ seeding."},
		stage.Param{Name: "seed", Type: stage.Number, Default: 1.0, Integer: true, Min: stage.AtLeast(0),
			Doc: "Seed of the training sample, the k-means++ seeds and OPQ: the same seed gives a byte-identical index."},
	)
}

// checkANNIndex checks index parameter combinations at plan time.
func checkANNIndex(p map[string]any) error {
	num := func(n string) int { v, _ := p[n].(float64); return int(v) }
	train := num("train_size")
	if train == 0 {
		return nil
	}
	if _, ok := p["n_lists"]; ok && train < num("n_lists") {
		return &stage.ParamError{Param: "train_size", Err: fmt.Errorf("train_size = %d is below n_lists = %d: k-means needs at least one training vector per list", train, num("n_lists"))}
	}
	if _, ok := p["m"]; ok && train < ivfx.KSub {
		return &stage.ParamError{Param: "train_size", Err: fmt.Errorf("train_size = %d: 8-bit product quantisation needs at least %d training vectors", train, ivfx.KSub)}
	}
	return nil
}

// annSearchParams are the search parameters of method m.
func annSearchParams(m string) []stage.Param {
	var ps []stage.Param
	if m != MethodPQ {
		ps = append(ps, stage.Param{Name: "n_probe", Type: stage.Number, Default: 1.0, Integer: true, Min: stage.Above(0),
			Doc: "Lists searched per query, the best by the similarity to their centroids; at most the index's n_lists (Lightning IR's n_probe)."})
	}
	if m != MethodIVF {
		ps = append(ps,
			stage.Param{Name: "candidate_k", Type: stage.Number, Default: 0.0, Integer: true, Min: stage.AtLeast(0),
				Doc: "Candidates kept by their approximate (ADC) scores before the top k; 0 = k, else at least k (Lightning IR's candidate_k)."},
			stage.Param{Name: "rescore", Type: stage.Bool, Default: true,
				Doc: "Score the candidates exactly from the stored full vectors (Lightning IR's imputation_strategy \"gather\"); false keeps the approximate scores."})
	}
	return ps
}

// checkANNSearch checks search parameter combinations at plan time.
func checkANNSearch(p map[string]any) error {
	num := func(n string) int { v, _ := p[n].(float64); return int(v) }
	if c, ok := p["candidate_k"]; ok && c.(float64) != 0 && num("candidate_k") < num("k") {
		return &stage.ParamError{Param: "candidate_k", Err: fmt.Errorf("candidate_k = %d is below k = %d: give at least k candidates, or 0 for k", num("candidate_k"), num("k"))}
	}
	return nil
}

// checkANNSearchUpstream checks at plan time that n_probe does not exceed
// the n_lists of the index block the search reads (when that index comes
// from a stage of the recipe; an index directory given as a path is
// checked when the search opens it).
func checkANNSearchUpstream(p map[string]any, upstream func(string) (stage.Upstream, bool)) error {
	probe, ok := p["n_probe"].(float64)
	if !ok {
		return nil
	}
	up, ok := upstream("index")
	if !ok {
		return nil
	}
	lists, ok := up.Params["n_lists"].(float64)
	if ok && probe > lists {
		return &stage.ParamError{Param: "n_probe", Err: fmt.Errorf("n_probe = %d exceeds n_lists = %d of %s, the index it searches", int(probe), int(lists), up.Address)}
	}
	return nil
}

// annIndexKind describes `index` with an approximate method: it trains
// on the vectors of a dense index (index method dense) rather than
// encoding the documents again, so one encoding serves any number of
// approximate indexes, each cached on its own parameters.
func annIndexKind(m string) *stage.Kind {
	params := append([]stage.Param{
		{Name: "dense", Type: stage.Input, Required: true, Accepts: []string{Format(MethodDense)},
			Doc: "The index output of an index block with method dense (float32 or float16): its vectors are clustered and quantised, and kept beside the approximate index for exact re-scoring. Its model and head are the ones search must encode queries with."},
	}, annIndexParams(m)...)
	return &stage.Kind{
		Block: "index", Method: m, Version: 1,
		Doc:           "Trains an approximate index on the vectors of a dense index: " + methodDocs[m],
		Params:        params,
		Outputs:       []stage.Output{{Name: "index", Path: "index/", Format: Format(m), Doc: "The index directory: the approximate index (ann/) and the dense index it was trained on (data/; docs/neural-retrieval.md)."}},
		Check:         checkANNIndex,
		CheckUpstream: checkANNIndexUpstream,
		Run:           func(ctx context.Context, job *stage.Job) error { return runANNIndex(ctx, job, m) },
	}
}

func runANNIndex(ctx context.Context, job *stage.Job, m string) error {
	info, src, err := readInfo(job.String("dense"), MethodDense)
	if err != nil {
		return fmt.Errorf("%s: dense: %w", job.Address, err)
	}
	outDir := filepath.Join(job.OutDir, "index")
	data := filepath.Join(outDir, dataDir)
	if err := linkTree(filepath.Join(src, dataDir), data); err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	full, err := densex.Open(data)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	defer full.Close()
	o := ivfx.Options{Method: m, TrainSize: job.Int("train_size"), Iterations: job.Int("iterations"),
		Seed: uint64(job.Int("seed")), Threads: job.Threads}
	if m != MethodPQ {
		o.NLists = job.Int("n_lists")
	}
	if m != MethodIVF {
		o.M, o.OPQ = job.Int("m"), job.Bool("opq")
	}
	if job.CheckpointDir != "" { // training steps and encoded blocks survive a kill
		o.CheckpointDir = filepath.Join(job.CheckpointDir, annDir)
	}
	if job.Log != nil {
		o.Log = func(msg string) { job.Log.Info(msg) }
		o.Debug = func(msg string) { job.Log.Debug(msg) }
	}
	meta, err := ivfx.Build(ctx, filepath.Join(outDir, annDir), full, o)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	job.SetMetric("docs", float64(meta.NumDocs))
	job.SetMetric("train_size", float64(meta.TrainSize))
	info.Method = m
	return writeInfo(outDir, info)
}

// linkTree makes dst a copy of the files of directory src: hard links
// where the file system allows (cache artifacts are never modified), else
// copies.
func linkTree(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		from, to := filepath.Join(src, e.Name()), filepath.Join(dst, e.Name())
		os.Remove(to)
		if os.Link(from, to) == nil {
			continue
		}
		if err := durable.CopyFile(from, to); err != nil {
			return err
		}
	}
	return nil
}

// searchANN searches an approximate index (its dense index gives ids and
// exact re-scores).
func searchANN(ctx context.Context, job *stage.Job, m, dir string, emb *inference.Embeddings, k int, progress func(int64)) ([][]hit, error) {
	full, err := densex.Open(filepath.Join(dir, dataDir))
	if err != nil {
		return nil, err
	}
	defer full.Close()
	ix, err := ivfx.Open(filepath.Join(dir, annDir), full)
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	o := ivfs.Options{K: k, Threads: job.Threads, Progress: progress, NProbe: 1}
	if m != MethodPQ {
		o.NProbe = job.Int("n_probe")
		if o.NProbe > ix.Meta().NLists {
			return nil, fmt.Errorf("n_probe = %d exceeds the index's n_lists = %d", o.NProbe, ix.Meta().NLists)
		}
	}
	if m != MethodIVF {
		o.CandidateK, o.Rescore = job.Int("candidate_k"), job.Bool("rescore")
		if o.CandidateK != 0 {
			// k may have grown by one for remove_query
			o.CandidateK = max(o.CandidateK, k)
		}
	}
	flat := make([]float32, 0, len(emb.Vectors)*emb.Dim)
	for _, v := range emb.Vectors {
		flat = append(flat, v...)
	}
	res, err := ivfs.SearchAll(ctx, ix, flat, o)
	return hits(res, func(h ivfs.Hit) hit { return hit{h.ID, h.Score} }), err
}
