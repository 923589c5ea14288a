package neural

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"

	multix "github.com/irflow/irflow/index/multivector"
	plaidx "github.com/irflow/irflow/index/plaid"
	"github.com/irflow/irflow/models/inference"
	"github.com/irflow/irflow/pipeline/stage"
	plaids "github.com/irflow/irflow/search/plaid"
	"github.com/irflow/irflow/stages/device"
)

// MethodPLAID is the approximate multi-vector method (index/plaid):
// Lightning IR's PlaidIndexConfig / PlaidSearchConfig.
const MethodPLAID = "plaid"

// plaidDir is the PLAID index inside a neural index directory; the
// multivector index it was built from (ids, document rows, optional exact
// re-scoring) is dataDir beside it.
const plaidDir = "plaid"

func init() {
	formatVersions[MethodPLAID] = fmt.Sprintf("%d.%d.%d", InfoFormat, multix.Format, plaidx.Format)
	methodDocs[MethodPLAID] = "approximate multi-vector (col models): PLAID, k-means centroids over the token vectors, each token stored as its centroid and an n_bits residual (ColBERTv2's compression); search gathers candidates from each query vector's n_cells best centroids, ranks them by centroid interaction with pruning (centroid_score_threshold), and scores the candidate_k best by MaxSim over their decompressed tokens (Lightning IR's PlaidIndexConfig/PlaidSearchConfig, fast-plaid)."
	m := MethodPLAID
	stage.RegisterFormat(stage.Format{Name: Format(m), Version: formatVersions[m],
		Doc:   "a plaid neural index (index method plaid)",
		Sniff: func(path string) bool { _, _, err := readInfo(path, m); return err == nil }})
	stage.Register(plaidIndexKind())
	stage.Register(refuseUnindexable(plaidSearchKind()))
}

func checkNBits(v any) error {
	if n, _ := v.(float64); !slices.Contains(plaidx.NBitsAllowed, int(n)) || n != float64(int(n)) {
		return fmt.Errorf("n_bits = %v: want one of %v", v, plaidx.NBitsAllowed)
	}
	return nil
}

// plaidIndexKind describes `index` with method plaid: it trains on the
// token vectors of a multivector index rather than encoding the documents
// again.
func plaidIndexKind() *stage.Kind {
	return &stage.Kind{
		Block: "index", Method: MethodPLAID, Version: 1,
		Doc: "Builds a PLAID index on the token vectors of a multivector index: " + methodDocs[MethodPLAID],
		Params: []stage.Param{
			{Name: "multivector", Type: stage.Input, Required: true, Accepts: []string{Format(MethodMultivector)},
				Doc: "The index output of an index block with method multivector (a col model, dot or cosine similarity): its token vectors are clustered and compressed, and kept beside the PLAID index (search's rescore). Its model and head are the ones search must encode queries with."},
			{Name: "num_centroids", Type: stage.Number, Default: 0.0, Integer: true, Min: stage.AtLeast(0),
				Doc: "k-means centroids over the token vectors (Lightning IR's num_centroids, which it does not pass to fast-plaid); 0 = ColBERT's 2^⌊log2(16·√tokens)⌋."},
			{Name: "n_bits", Type: stage.Number, Default: float64(plaidx.DefaultNBits), Check: checkNBits,
				Doc: "Bits per dimension of a token's compressed residual to its centroid: 1, 2 or 4 (Lightning IR's n_bits); the dimension × n_bits must be a whole number of bytes."},
			{Name: "k_means_iters", Type: stage.Number, Default: float64(plaidx.DefaultIterations), Integer: true, Min: stage.Above(0),
				Doc: "Lloyd iterations of k-means (Lightning IR's k_means_iters); k-means++ seeding."},
			{Name: "train_size", Type: stage.Number, Default: 0.0, Integer: true, Min: stage.AtLeast(0),
				Doc: "Token vectors, drawn at random with the seed, that k-means trains on; 0 = 256 per centroid (faiss's max_points_per_centroid). It bounds the build's memory: train_size × dim float32, plus 4 bytes per token."},
			{Name: "seed", Type: stage.Number, Default: float64(plaidx.DefaultSeed), Integer: true, Min: stage.AtLeast(0),
				Doc: "Seed of the training sample and the k-means++ seeds (Lightning IR's seed): the same seed gives a byte-identical index."},
		},
		Outputs: []stage.Output{{Name: "index", Path: "index/", Format: Format(MethodPLAID), Doc: "The index directory: the PLAID index (plaid/) and the multivector index it was built from (data/; docs/neural-retrieval.md)."}},
		Check:   checkPLAIDIndex,
		Run:     runPLAIDIndex,
	}
}

// checkPLAIDIndex: an explicit sample must hold one vector per centroid.
func checkPLAIDIndex(p map[string]any) error {
	train, _ := p["train_size"].(float64)
	k, _ := p["num_centroids"].(float64)
	if train > 0 && k > train {
		return &stage.ParamError{Param: "train_size", Err: fmt.Errorf("train_size = %d is below num_centroids = %d: k-means needs at least one training vector per centroid", int(train), int(k))}
	}
	return nil
}

func runPLAIDIndex(ctx context.Context, job *stage.Job) error {
	info, src, err := readInfo(job.String("multivector"), MethodMultivector)
	if err != nil {
		return fmt.Errorf("%s: multivector: %w", job.Address, err)
	}
	outDir := filepath.Join(job.OutDir, "index")
	data := filepath.Join(outDir, dataDir)
	if err := linkTree(filepath.Join(src, dataDir), data); err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	full, err := multix.Open(data)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	defer full.Close()
	o := plaidx.Options{NumCentroids: job.Int("num_centroids"), NBits: job.Int("n_bits"), TrainSize: job.Int("train_size"),
		Iterations: job.Int("k_means_iters"), Seed: uint64(job.Int("seed")), Threads: job.Threads}
	if job.CheckpointDir != "" { // k-means rounds and assigned blocks survive a kill
		o.CheckpointDir = filepath.Join(job.CheckpointDir, plaidDir)
	}
	if job.Log != nil {
		o.Log = func(msg string) { job.Log.Info(msg) }
		o.Debug = func(msg string) { job.Log.Debug(msg) }
	}
	meta, err := plaidx.Build(ctx, filepath.Join(outDir, plaidDir), full, o)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	job.SetMetric("docs", float64(meta.NumDocs))
	job.SetMetric("tokens", float64(meta.NumTokens))
	job.SetMetric("num_centroids", float64(meta.NumCentroids))
	job.SetMetric("train_size", float64(meta.TrainSize))
	info.Method = MethodPLAID
	return writeInfo(outDir, info)
}

// plaidSearchKind describes `search` with method plaid.
func plaidSearchKind() *stage.Kind {
	k := SearchKind(MethodPLAID)
	k.Doc = "Encodes queries with the model the index was built with and retrieves the approximate top-k from a plaid index: " + methodDocs[MethodPLAID]
	k.Params = append(k.Params,
		stage.Param{Name: "n_cells", Type: stage.Number, Default: float64(plaids.DefaultNCells), Integer: true, Min: stage.Above(0),
			Doc: "Centroids per query vector whose documents become candidates, the best by similarity; at most the index's num_centroids (Lightning IR's n_cells)."},
		stage.Param{Name: "centroid_score_threshold", Type: stage.Number, Default: plaids.DefaultCentroidScoreThreshold,
			Doc: "Centroids whose best similarity to any query vector is below this are left out of the candidates' approximate scores (PLAID's centroid pruning; Lightning IR's centroid_score_threshold). A very low value (e.g. -1e9) prunes nothing."},
		stage.Param{Name: "candidate_k", Type: stage.Number, Default: float64(plaids.DefaultCandidateK), Integer: true, Min: stage.Above(0),
			Doc: "Candidates, the best by approximate score, scored in full; at least k are (Lightning IR's candidate_k)."},
		stage.Param{Name: "rescore", Type: stage.Bool, Default: false,
			Doc: "Score the candidates from the full token vectors kept beside the index instead of their decompressed ones (exact MaxSim of the survivors, like the ivf methods' rescore); false is PLAID's own final step."},
	)
	k.Check = device.CheckPrecision
	k.CheckUpstream = checkPLAIDSearchUpstream
	return k
}

// checkPLAIDSearchUpstream checks at plan time that n_cells does not
// exceed the num_centroids of the index block the search reads, where the
// recipe sets it (the default count, which depends on the collection, and
// an index given as a path are checked when the search opens the index).
func checkPLAIDSearchUpstream(p map[string]any, upstream func(string) (stage.Upstream, bool)) error {
	cells, ok := p["n_cells"].(float64)
	if !ok {
		return nil
	}
	up, ok := upstream("index")
	if !ok {
		return nil
	}
	k, ok := up.Params["num_centroids"].(float64)
	if ok && k > 0 && cells > k {
		return &stage.ParamError{Param: "n_cells", Err: fmt.Errorf("n_cells = %d exceeds num_centroids = %d of %s, the index it searches", int(cells), int(k), up.Address)}
	}
	return nil
}

// searchPLAID searches a PLAID index (its multivector index gives ids,
// document rows and, with rescore, the full token vectors).
func searchPLAID(ctx context.Context, job *stage.Job, dir string, emb *inference.Embeddings, queryAgg string, k int, progress func(int64)) ([][]hit, error) {
	full, err := multix.Open(filepath.Join(dir, dataDir))
	if err != nil {
		return nil, err
	}
	defer full.Close()
	ix, err := plaidx.Open(filepath.Join(dir, plaidDir), full)
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	o := plaids.Options{K: k, NCells: job.Int("n_cells"), CentroidScoreThreshold: job.Float("centroid_score_threshold"),
		CandidateK: max(job.Int("candidate_k"), k), Rescore: job.Bool("rescore"), QueryAggregation: queryAgg,
		Threads: job.Threads, Progress: progress}
	if o.NCells > ix.Meta().NumCentroids {
		return nil, fmt.Errorf("n_cells = %d exceeds the index's num_centroids = %d", o.NCells, ix.Meta().NumCentroids)
	}
	queries := make([]plaids.Query, len(emb.Vectors))
	for i := range queries {
		queries[i] = plaids.Query{Vectors: emb.Vectors[i], Mask: emb.Mask[i]}
	}
	res, err := plaids.SearchAll(ctx, ix, queries, o)
	return hits(res, func(h plaids.Hit) hit { return hit{h.ID, h.Score} }), err
}
