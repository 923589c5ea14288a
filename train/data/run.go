package data

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Strategy is how a query's documents are drawn from its ranked list
// (Lightning IR's sampling_strategy).
type Strategy string

const (
	// Top takes the head of the ranking.
	Top Strategy = "top"
	// Random takes sample_size documents uniformly without replacement.
	Random Strategy = "random"
	// LogRandom draws without replacement with weights 1/log1p(rank), so
	// high-ranked documents are likelier.
	LogRandom Strategy = "log_random"
	// TopAndRandom takes the top sample_size/2 and draws the rest uniformly
	// from below them.
	TopAndRandom Strategy = "top_and_random"
	// SingleRelevant draws one judged-relevant document (grade > 0) and
	// sample_size-1 judged-or-unjudged non-relevant ones (grade 0); fewer if
	// the list has fewer.
	SingleRelevant Strategy = "single_relevant"
)

// Strategies lists the sampling strategies.
func Strategies() []Strategy { return []Strategy{Top, Random, LogRandom, TopAndRandom, SingleRelevant} }

// random reports whether the strategy draws at random.
func (s Strategy) random() bool { return s != Top }

// RunTargets is what a run sample's targets are (Lightning IR's targets).
type RunTargets string

const (
	// NoTargets gives samples without targets.
	NoTargets RunTargets = ""
	// Relevance is the qrels grade, maximum over qrel iterations, 0 when
	// unjudged.
	Relevance RunTargets = "relevance"
	// Rank is depth - rank + 1 (higher is better); it needs a depth.
	Rank RunTargets = "rank"
	// Score is the run's score (as float32, as Lightning IR reads it).
	Score RunTargets = "score"
)

// RunConfig describes a run dataset: a first-stage run, the queries and
// documents it ranks, and optionally qrels. Depth and SampleSize take 0 or
// -1 (Lightning IR's default) for "all".
type RunConfig struct {
	Run     string // TREC run: qid Q0 docid rank score [tag]
	Queries string // id<TAB>text TSV or BEIR JSONL
	Docs    string // id<TAB>text TSV or BEIR JSONL
	Qrels   string // TREC qrels (qid iteration docid grade); optional

	Depth            int        // keep rows with rank <= Depth
	SampleSize       int        // documents per sample
	SamplingStrategy Strategy   // "" is Top
	Targets          RunTargets // "" gives no targets
	NormalizeTargets bool       // min-max normalise each sample's targets
	// DropWithoutRelevant drops queries none of whose documents within
	// depth is judged relevant (an irflow addition: first-stage hard
	// negatives miss the positive of some queries, which single_relevant
	// otherwise refuses and listwise targets would train on as all-zero).
	DropWithoutRelevant bool
}

// rankedDoc is one document of a query's ranked list with what targets
// and sampling need.
type rankedDoc struct {
	id     string
	rank   int
	score  float32
	target float64 // relevance target (see qrelsSet.grades)
	floor  float64 // lowest relevance cell, for normalisation
	judged float64 // grade single_relevant sees
}

type runSample struct {
	id   string
	docs []rankedDoc
}

// RunDataset is one sample per query of a run, with Lightning IR's
// RunDataset rules (see LoadRun).
type RunDataset struct {
	cfg      RunConfig
	queries  []runSample
	query    map[string]string
	doc      map[string]string
	numDocs  int // documents kept in memory
	numDrops DropCounts
}

// DropCounts says how many queries LoadRun dropped and why.
type DropCounts struct {
	Unjudged int // the run has the query, the qrels do not
	Short    int // fewer documents than SampleSize within Depth
	// NoRelevant: no relevant document within Depth (DropWithoutRelevant).
	NoRelevant int
}

// LoadRun reads a run dataset. As Lightning IR's RunDataset it cuts rows
// ranked below Depth, then drops a (query, document) pair seen again
// (keeping the first row); if there are qrels, drops queries they do not
// judge; with SampleSize set, drops queries with fewer documents; and
// orders queries by id (string order) and each list by rank (ties keep
// file order). It then reads the texts of the kept queries and of their
// documents only.
//
// It refuses what Lightning IR would fail on or silently get wrong:
// unknown strategies or targets, rank targets without a depth, relevance
// targets or single_relevant without qrels, single_relevant for a query
// without a relevant document, log_random with a rank below 1, and (for
// the deterministic top strategy) normalised targets that are all equal,
// where Lightning IR divides by zero and trains on NaN.
func LoadRun(cfg RunConfig) (*RunDataset, error) {
	if cfg.SamplingStrategy == "" {
		cfg.SamplingStrategy = Top
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	depth := max(cfg.Depth, 0)
	rows, err := readRun(cfg.Run, depth)
	if err != nil {
		return nil, err
	}
	var qrels *qrelsSet
	if cfg.Qrels != "" {
		if qrels, err = readQrels(cfg.Qrels); err != nil {
			return nil, err
		}
	}
	ds := &RunDataset{cfg: cfg}
	for _, q := range rows {
		if qrels != nil && qrels.byQuery[q.id] == nil {
			ds.numDrops.Unjudged++
			continue
		}
		if cfg.SampleSize > 0 && len(q.rows) < cfg.SampleSize {
			ds.numDrops.Short++
			continue
		}
		s := runSample{id: q.id, docs: make([]rankedDoc, len(q.rows))}
		for i, r := range q.rows {
			d := rankedDoc{id: r.docID, rank: r.rank, score: r.score}
			if qrels != nil {
				d.target, d.floor, d.judged = qrels.grades(q.id, r.docID)
			}
			s.docs[i] = d
		}
		slices.SortStableFunc(s.docs, func(a, b rankedDoc) int { return cmp.Compare(a.rank, b.rank) })
		if cfg.DropWithoutRelevant && !slices.ContainsFunc(s.docs, func(d rankedDoc) bool { return d.judged > 0 }) {
			ds.numDrops.NoRelevant++
			continue
		}
		ds.queries = append(ds.queries, s)
	}
	slices.SortFunc(ds.queries, func(a, b runSample) int { return strings.Compare(a.id, b.id) })
	if len(ds.queries) == 0 {
		return nil, fmt.Errorf("%s: no training queries left (%d dropped for having no qrels, %d for having fewer than sample_size %d documents within depth, %d for having no relevant document within depth)",
			cfg.Run, ds.numDrops.Unjudged, ds.numDrops.Short, cfg.SampleSize, ds.numDrops.NoRelevant)
	}
	if err := ds.checkQueries(); err != nil {
		return nil, err
	}
	wantQ, wantD := map[string]bool{}, map[string]bool{}
	for _, q := range ds.queries {
		wantQ[q.id] = true
		for _, d := range q.docs {
			wantD[d.id] = true
		}
	}
	if ds.query, err = readQueryTexts(cfg.Queries, wantQ); err != nil {
		return nil, err
	}
	if ds.doc, err = readDocTexts(cfg.Docs, wantD); err != nil {
		return nil, err
	}
	ds.numDocs = len(wantD)
	return ds, nil
}

func (cfg RunConfig) check() error {
	var errs []error
	for _, f := range []struct{ name, path string }{{"run", cfg.Run}, {"queries", cfg.Queries}, {"docs", cfg.Docs}} {
		if f.path == "" {
			errs = append(errs, fmt.Errorf("no %s file", f.name))
		}
	}
	if cfg.Depth < -1 {
		errs = append(errs, fmt.Errorf("depth = %d: want a positive depth, or 0 or -1 for the whole ranking", cfg.Depth))
	}
	if cfg.SampleSize < -1 {
		errs = append(errs, fmt.Errorf("sample_size = %d: want a positive size, or 0 or -1 for every document", cfg.SampleSize))
	}
	if !slices.Contains(Strategies(), cfg.SamplingStrategy) {
		errs = append(errs, fmt.Errorf("sampling_strategy = %q: want one of %s", cfg.SamplingStrategy, quoteAll(Strategies())))
	}
	switch cfg.Targets {
	case NoTargets, Score:
	case Relevance:
		if cfg.Qrels == "" {
			errs = append(errs, errors.New(`targets = "relevance" needs qrels`))
		}
	case Rank:
		if cfg.Depth <= 0 {
			errs = append(errs, errors.New(`targets = "rank" needs a depth (targets are depth - rank + 1)`))
		}
	default:
		errs = append(errs, fmt.Errorf("targets = %q: want one of %s (or none)", cfg.Targets, quoteAll([]RunTargets{Relevance, Rank, Score})))
	}
	if cfg.NormalizeTargets && cfg.Targets == NoTargets {
		errs = append(errs, errors.New("normalize_targets without targets"))
	}
	if cfg.SamplingStrategy == SingleRelevant && cfg.Qrels == "" {
		errs = append(errs, errors.New(`sampling_strategy = "single_relevant" needs qrels`))
	}
	if cfg.DropWithoutRelevant && cfg.Qrels == "" {
		errs = append(errs, errors.New("drop_without_relevant needs qrels"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("run dataset %s: %w", cfg.Run, err)
	}
	return nil
}

func quoteAll[S ~string](xs []S) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

// checkQueries rejects, at load time, queries that could only fail later.
func (ds *RunDataset) checkQueries() error {
	cfg := ds.cfg
	sampled := cfg.SampleSize > 0
	for _, q := range ds.queries {
		if cfg.SamplingStrategy == LogRandom && sampled {
			for _, d := range q.docs {
				if d.rank < 1 {
					return fmt.Errorf("%s: query %q: document %q has rank %d; log_random weighs by 1/log1p(rank) and needs ranks >= 1", cfg.Run, q.id, d.id, d.rank)
				}
			}
		}
		if cfg.SamplingStrategy == SingleRelevant && sampled &&
			!slices.ContainsFunc(q.docs, func(d rankedDoc) bool { return d.judged > 0 }) {
			return fmt.Errorf("%s: query %q has no relevant document within depth; single_relevant needs one per query (or drop such queries: drop_without_relevant)", cfg.Run, q.id)
		}
		if cfg.NormalizeTargets && !(sampled && cfg.SamplingStrategy.random()) {
			docs := q.docs
			if sampled {
				docs = docs[:cfg.SampleSize] // top
			}
			if _, err := ds.targets(q.id, docs); err != nil {
				return err
			}
		}
	}
	return nil
}

// Len is the number of queries.
func (ds *RunDataset) Len() int { return len(ds.queries) }

// QueryIDs are the queries in dataset order (by id).
func (ds *RunDataset) QueryIDs() []string {
	ids := make([]string, len(ds.queries))
	for i, q := range ds.queries {
		ids[i] = q.id
	}
	return ids
}

// NumDocs is the number of distinct documents held in memory.
func (ds *RunDataset) NumDocs() int { return ds.numDocs }

// Dropped says how many run queries LoadRun dropped, and why.
func (ds *RunDataset) Dropped() DropCounts { return ds.numDrops }

// Sample draws query i's documents. Random strategies draw from a
// generator seeded by (seed, epoch, query id); top ignores both.
func (ds *RunDataset) Sample(i int, seed uint64, epoch int) (Sample, error) {
	if i < 0 || i >= len(ds.queries) {
		return Sample{}, fmt.Errorf("sample %d out of range [0, %d)", i, len(ds.queries))
	}
	q := ds.queries[i]
	docs := q.docs
	if ds.cfg.SampleSize > 0 {
		r := newRNG(domainSample, seed, uint64(epoch), stringWord(q.id))
		var err error
		if docs, err = draw(ds.cfg.SamplingStrategy, q.docs, ds.cfg.SampleSize, r); err != nil {
			return Sample{}, fmt.Errorf("query %q: %w", q.id, err)
		}
	}
	s := Sample{QueryID: q.id, Query: ds.query[q.id], DocIDs: make([]string, len(docs)), Docs: make([]string, len(docs))}
	for j, d := range docs {
		s.DocIDs[j], s.Docs[j] = d.id, ds.doc[d.id]
	}
	var err error
	s.Targets, err = ds.targets(q.id, docs)
	return s, err
}

// targets computes Lightning IR's targets for the chosen documents, in
// their order. Arithmetic follows the tensor dtypes Lightning IR gets:
// relevance in float64, rank in int32 (normalised in float32), score in
// float32; all come back as float32.
func (ds *RunDataset) targets(qid string, docs []rankedDoc) ([]float32, error) {
	cfg := ds.cfg
	if cfg.Targets == NoTargets {
		return nil, nil
	}
	t := make([]float32, len(docs))
	if cfg.Targets == Score {
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for j, d := range docs {
			t[j] = d.score
			lo, hi = min(lo, d.score), max(hi, d.score)
		}
		if cfg.NormalizeTargets {
			if lo == hi {
				return nil, ds.equalTargets(qid, float64(lo))
			}
			for j := range t {
				t[j] = (t[j] - lo) / (hi - lo)
			}
		}
		return t, nil
	}
	v := make([]float64, len(docs))
	lo, hi := math.Inf(1), math.Inf(-1)
	for j, d := range docs {
		if cfg.Targets == Rank {
			v[j] = float64(cfg.Depth - d.rank + 1)
			lo = min(lo, v[j])
		} else {
			v[j] = d.target
			lo = min(lo, d.floor)
		}
		hi = max(hi, v[j])
	}
	if cfg.NormalizeTargets && lo == hi {
		return nil, ds.equalTargets(qid, lo)
	}
	for j := range v {
		if cfg.NormalizeTargets {
			v[j] = (v[j] - lo) / (hi - lo)
		}
		t[j] = float32(v[j])
	}
	return t, nil
}

func (ds *RunDataset) equalTargets(qid string, v float64) error {
	return fmt.Errorf("%s: query %q: every %s target of its sample is %g, so min-max normalisation divides by zero (Lightning IR trains on NaN there); drop normalize_targets, or change depth or sample_size",
		ds.cfg.Run, qid, ds.cfg.Targets, v)
}
