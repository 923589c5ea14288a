package neural

import (
	"context"
	"fmt"
	"path/filepath"

	seismicx "github.com/irflow/irflow/index/seismic"
	sparsex "github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/models/inference"
	"github.com/irflow/irflow/pipeline/stage"
	seismics "github.com/irflow/irflow/search/seismic"
	sparses "github.com/irflow/irflow/search/sparse"
)

// MethodSeismic is the approximate sparse method (index/seismic):
// Lightning IR's SeismicConfig, pyseismic-lsr's SeismicIndex.
const MethodSeismic = "seismic"

// seismicDir is the Seismic index inside a neural index directory; the
// sparse index it was built from (ids, values) is dataDir beside it.
const seismicDir = "seismic"

// seismicIndexParams are Lightning IR's SeismicConfig / pyseismic-lsr's
// build parameters, with their defaults.
func seismicIndexParams() []stage.Param {
	return []stage.Param{
		{Name: "num_postings", Type: stage.Number, Default: float64(seismicx.DefaultNumPostings), Integer: true, Min: stage.Above(0),
			Doc: "Postings each term keeps, its largest by weight (static pruning; Lightning IR's num_postings, pyseismic's n_postings). How they are chosen is pruning's."},
		// pruning and max_fraction have no Default, so a recipe that leaves
		// them out keeps the cache key it had before they existed.
		{Name: "pruning", Type: stage.String, Enum: []string{seismicx.PruneFixed, seismicx.PruneGlobalThreshold},
			Doc: "Which postings each term keeps: fixed (when left out) keeps its num_postings largest; global_threshold is pyseismic's GlobalThreshold (what Lightning IR's SeismicConfig gets): the num_postings × vocabulary largest postings of the collection, at most num_postings × max_fraction of them a term. Setting fixed explicitly gives the same index under another cache key."},
		{Name: "max_fraction", Type: stage.Number, Min: stage.Above(0),
			Doc: "With pruning = global_threshold: a term keeps at most num_postings × max_fraction postings (pyseismic's max_fraction, 1.5 when left out)."},
		{Name: "centroid_fraction", Type: stage.Number, Default: seismicx.DefaultCentroidFraction, Min: stage.Above(0), Max: stage.AtMost(1),
			Doc: "Blocks per term: centroid_fraction × its kept postings (at least 1) random documents are the centroids its documents are clustered around, each cluster a block."},
		{Name: "min_cluster_size", Type: stage.Number, Default: float64(seismicx.DefaultMinClusterSize), Integer: true, Min: stage.AtLeast(0),
			Doc: "A cluster of at most this many documents is dissolved and its documents join their best remaining centroid."},
		{Name: "summary_energy", Type: stage.Number, Default: seismicx.DefaultSummaryEnergy, Min: stage.Above(0), Max: stage.AtMost(1),
			Doc: "Fraction of the L1 mass of a block's summary (the coordinate-wise maximum of its documents) kept, largest coordinates first; 1 keeps all, and then a summary's score bounds its block's."},
		{Name: "doc_cut", Type: stage.Number, Default: float64(seismicx.DefaultDocCut), Integer: true, Min: stage.Above(0),
			Doc: "A document's largest coordinates compared with the centroids while clustering (pyseismic's doc_cut)."},
		{Name: "seed", Type: stage.Number, Default: 1.0, Integer: true, Min: stage.AtLeast(0),
			Doc: "Seed of the centroids (each term draws from its own stream): the same seed gives a byte-identical index."},
		{Name: "memory_mb", Type: stage.Number, Default: 2048.0, Min: stage.AtLeast(64), Meta: true,
			Doc: "Memory budget of the build in MiB: the forward index is assembled a document range of a quarter of it at a time."},
	}
}

// checkSeismicIndex checks index parameter combinations at plan time.
func checkSeismicIndex(p map[string]any) error {
	num := func(n string) float64 { v, _ := p[n].(float64); return v }
	if mc, np := num("min_cluster_size"), num("num_postings"); mc >= np {
		return &stage.ParamError{Param: "min_cluster_size", Err: fmt.Errorf("min_cluster_size = %d is not below num_postings = %d: every cluster would be dissolved, leaving one block per term", int(mc), int(np))}
	}
	global := p["pruning"] == seismicx.PruneGlobalThreshold
	if _, ok := p["max_fraction"]; ok && !global {
		return &stage.ParamError{Param: "max_fraction", Err: fmt.Errorf("max_fraction is only for pruning = %q", seismicx.PruneGlobalThreshold)}
	}
	if o := seismicOptions(p); global && o.Check() != nil {
		return &stage.ParamError{Param: "max_fraction", Err: o.Check()}
	}
	if b := num("centroid_fraction") * num("num_postings"); b >= seismicx.MaxBlocks {
		return &stage.ParamError{Param: "centroid_fraction", Err: fmt.Errorf("centroid_fraction × num_postings = %.0f blocks per term: at most %d (16-bit block numbers, as pyseismic's)", b, seismicx.MaxBlocks-1)}
	}
	return nil
}

// seismicSearchParams are Lightning IR's SeismicSearchConfig /
// pyseismic-lsr's search parameters, with their defaults.
func seismicSearchParams() []stage.Param {
	return []stage.Param{
		{Name: "query_cut", Type: stage.Number, Default: float64(seismics.DefaultQueryCut), Integer: true, Min: stage.Above(0),
			Doc: "The query's largest terms whose blocks are visited (Lightning IR's query_cut)."},
		{Name: "heap_factor", Type: stage.Number, Default: seismics.DefaultHeapFactor, Min: stage.Above(0), Max: stage.AtMost(1),
			Doc: "A block is skipped when its summary's score is below heap_factor × the k-th best score so far; smaller visits more (Lightning IR's heap_factor)."},
		{Name: "sorted", Type: stage.Bool, Default: true,
			Doc: "Visit the first term's blocks by decreasing summary score, which raises the k-th score sooner (pyseismic's sorted)."},
	}
}

// seismicIndexKind describes `index` with method seismic: it builds on the
// vectors of a sparse index (index method sparse) rather than encoding the
// documents again, so one encoding serves any number of Seismic indexes.
func seismicIndexKind() *stage.Kind {
	params := append([]stage.Param{
		{Name: "sparse", Type: stage.Input, Required: true, Accepts: []string{Format(MethodSparse)},
			Doc: "The index output of an index block with method sparse: its postings are pruned, blocked and summarised, and it is kept beside the Seismic index for document ids and values. Its model and head are the ones search must encode queries with."},
	}, seismicIndexParams()...)
	return &stage.Kind{
		Block: "index", Method: MethodSeismic, Version: 1,
		Doc:     "Builds an approximate index on a sparse index: " + methodDocs[MethodSeismic],
		Params:  params,
		Outputs: []stage.Output{{Name: "index", Path: "index/", Format: Format(MethodSeismic), Doc: "The index directory: the Seismic index (seismic/) and the sparse index it was built from (data/; docs/neural-retrieval.md)."}},
		Check:   checkSeismicIndex,
		Run:     runSeismicIndex,
	}
}

// seismicOptions are the build options of the index parameters p.
func seismicOptions(p map[string]any) seismicx.Options {
	num := func(n string) float64 { v, _ := p[n].(float64); return v }
	rule, _ := p["pruning"].(string)
	return seismicx.Options{NumPostings: int(num("num_postings")), Pruning: rule, MaxFraction: num("max_fraction"),
		CentroidFraction: num("centroid_fraction"), MinClusterSize: int(num("min_cluster_size")),
		SummaryEnergy: num("summary_energy"), DocCut: int(num("doc_cut")), Seed: uint64(num("seed"))}
}

func runSeismicIndex(ctx context.Context, job *stage.Job) error {
	info, src, err := readInfo(job.String("sparse"), MethodSparse)
	if err != nil {
		return fmt.Errorf("%s: sparse: %w", job.Address, err)
	}
	outDir := filepath.Join(job.OutDir, "index")
	data := filepath.Join(outDir, dataDir)
	if err := linkTree(filepath.Join(src, dataDir), data); err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	sp, err := sparsex.Open(data)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	defer sp.Close()
	memoryMB := job.Float("memory_mb")
	defer limitMemory(memoryMB)()
	o := seismicOptions(job.Params)
	o.Threads, o.MemoryBudget = job.Threads, int64(memoryMB*(1<<20)/4)
	if job.CheckpointDir != "" { // the forward index and finished ranges of terms survive a kill
		o.CheckpointDir = filepath.Join(job.CheckpointDir, seismicDir)
	}
	if job.Log != nil {
		o.Log = func(msg string) { job.Log.Info(msg) }
		o.Debug = func(msg string) { job.Log.Debug(msg) }
	}
	meta, err := seismicx.Build(ctx, filepath.Join(outDir, seismicDir), sp, o)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	job.SetMetric("docs", float64(meta.NumDocs))
	job.SetMetric("kept_postings", float64(meta.KeptPostings))
	job.SetMetric("blocks", float64(meta.NumBlocks))
	info.Method = MethodSeismic
	return writeInfo(outDir, info)
}

// searchSeismic searches a Seismic index (its sparse index gives ids and
// values).
func searchSeismic(ctx context.Context, job *stage.Job, dir string, qs []collection.Query, emb *inference.Embeddings, k int, progress func(int64)) ([][]hit, error) {
	sp, err := sparsex.Open(filepath.Join(dir, dataDir))
	if err != nil {
		return nil, err
	}
	defer sp.Close()
	if v := sp.Meta().VocabSize; v != emb.Dim {
		return nil, fmt.Errorf("queries encode to %d vocabulary weights but the index has a vocabulary of %d", emb.Dim, v)
	}
	ix, err := seismicx.Open(filepath.Join(dir, seismicDir), sp)
	if err != nil {
		return nil, err
	}
	defer ix.Close()
	queries := make([]sparses.Query, len(qs))
	for i, q := range qs {
		terms, weights := sparseOf(emb.Vectors[i])
		queries[i] = sparses.Query{ID: q.ID, Terms: terms, Weights: weights}
	}
	res, err := seismics.SearchAll(ctx, ix, queries, seismics.Options{K: k, Threads: job.Threads, Progress: progress,
		QueryCut: job.Int("query_cut"), HeapFactor: job.Float("heap_factor"), Sorted: job.Bool("sorted")})
	return hits(res, func(h sparses.Hit) hit { return hit{h.ID, h.Score} }), err
}

func init() {
	methodDocs[MethodSeismic] = "approximate: Seismic for learned sparse vectors, each term's num_postings largest postings clustered into blocks with 8-bit summaries and a forward index; search visits the query's query_cut largest terms and skips blocks whose summary score is below heap_factor × the k-th score (Lightning IR's SeismicConfig, pyseismic-lsr)."
	v := fmt.Sprintf("%d.%d.%d", InfoFormat, sparsex.Format, seismicx.Format)
	formatVersions[MethodSeismic] = v
	stage.RegisterFormat(stage.Format{Name: Format(MethodSeismic), Version: v,
		Doc:   "a seismic neural index (index method seismic)",
		Sniff: func(path string) bool { _, _, err := readInfo(path, MethodSeismic); return err == nil }})
	stage.Register(refuseUnindexable(IndexKind(MethodSeismic)))
	stage.Register(refuseUnindexable(SearchKind(MethodSeismic)))
}

// seismicSearchKind turns SearchKind's exact sparse search into the
// approximate one.
func seismicSearchKind(k *stage.Kind) {
	k.Doc = "Encodes queries with the model the index was built with and retrieves the approximate top-k from a seismic index: " + methodDocs[MethodSeismic]
	k.Params = append(k.Params, seismicSearchParams()...)
}
