// Package fusion merges several runs for the same queries into one — hybrid
// retrieval, e.g. BM25 + a dense bi-encoder + learned sparse — with the
// fusion methods and score normalisations of ranx (AmenRa/ranx 0.3.21),
// computed the way ranx computes them so that fused scores agree to
// rounding. The one deliberate difference is order: ranx ranks ties in an
// unspecified order, fusion ranks every list the trec_eval way (score
// descending, then document id descending), both its inputs (which matters
// for rank-based methods) and its output.
package fusion

import (
	"fmt"
	"math"
	"slices"

	"github.com/irflow/irflow/ir/trec"
)

// Version changes whenever fused scores or rankings could change; stages
// that fuse carry it in their cache keys.
const Version = 1

// Method is a fusion method, spelled as ranx's fuse(method=…) spells it.
type Method string

// The supported methods. Rank-based ones look only at each run's order;
// score-based ones combine (normalised) scores.
const (
	RRF        Method = "rrf"         // Σ 1/(k + rank) (Cormack et al. 2009)
	ISR        Method = "isr"         // CombMNZ of 1/rank² (Mourão et al. 2015)
	LogISR     Method = "log_isr"     // Σ 1/rank² · ln(runs retrieving the doc)
	BordaFuse  Method = "bordafuse"   // Borda count (Aslam & Montague 2001)
	WBordaFuse Method = "w_bordafuse" // weighted Borda count
	Sum        Method = "sum"         // CombSUM: Σ scores (Fox & Shaw 1993)
	WSum       Method = "wsum"        // Σ weight · score
	MNZ        Method = "mnz"         // CombMNZ: Σ scores · runs retrieving the doc
	WMNZ       Method = "wmnz"        // Σ scores · Σ weights of runs retrieving the doc (Wu & Crestani 2002)
	ANZ        Method = "anz"         // CombANZ: mean score over runs retrieving the doc
	Max        Method = "max"         // CombMAX
	Min        Method = "min"         // CombMIN over runs retrieving the doc
	Med        Method = "med"         // CombMED: median over runs retrieving the doc
)

// Doc says in a line what m computes, for documentation.
func (m Method) Doc() string {
	switch m {
	case RRF:
		return "Reciprocal rank fusion (Cormack et al. 2009): Σ over runs of 1/(k + rank)."
	case ISR:
		return "Inverse square rank (Mourão et al. 2015): Σ 1/rank², times the number of runs that retrieved the document."
	case LogISR:
		return "Log inverse square rank: Σ 1/rank², times ln(number of runs that retrieved the document), so a document retrieved by one run gets 0."
	case BordaFuse:
		return "Borda count (Aslam & Montague 2001): with c candidates, a run's i-th hit gets c − i + 1 points, its unretrieved candidates share the rest equally."
	case WBordaFuse:
		return "Weighted Borda count: Σ weight · Borda points."
	case Sum:
		return "CombSUM (Fox & Shaw 1993): Σ normalised scores; a run that missed the document adds 0."
	case WSum:
		return "Weighted sum: Σ weight · normalised score; a run that missed the document adds 0."
	case MNZ:
		return "CombMNZ (Fox & Shaw 1993): Σ normalised scores times the number of runs that retrieved the document."
	case WMNZ:
		return "Weighted MNZ (Wu & Crestani 2002): Σ normalised scores times Σ weights of the runs that retrieved the document."
	case ANZ:
		return "CombANZ: mean normalised score over the runs that retrieved the document."
	case Max:
		return "CombMAX: the largest normalised score."
	case Min:
		return "CombMIN: the smallest normalised score among the runs that retrieved the document."
	case Med:
		return "CombMED: the median normalised score among the runs that retrieved the document."
	}
	return ""
}

// Methods lists the supported methods, rank-based first.
func Methods() []Method {
	return []Method{RRF, ISR, LogISR, BordaFuse, WBordaFuse, Sum, WSum, MNZ, WMNZ, ANZ, Max, Min, Med}
}

// RankBased reports whether m fuses ranks rather than scores; such
// methods take no normalisation.
func (m Method) RankBased() bool {
	switch m {
	case RRF, ISR, LogISR, BordaFuse, WBordaFuse:
		return true
	}
	return false
}

// Weighted reports whether m takes per-run weights (ranx's methods with a
// weights argument).
func (m Method) Weighted() bool {
	switch m {
	case WSum, WMNZ, WBordaFuse:
		return true
	}
	return false
}

// Norm is a per-query score normalisation applied to each run before a
// score-based method combines them, spelled as in ranx.
type Norm string

// The supported normalisations.
const (
	MinMax   Norm = "min-max" // (s − min) / max(max − min, 1e-9): a constant list becomes all 0
	MaxNorm  Norm = "max"     // s / max(max, 1e-9)
	SumNorm  Norm = "sum"     // (s − min) / max(Σ(s − min), 1e-9)
	ZMUV     Norm = "zmuv"    // (s − mean) / max(std, 1e-9), population std
	RankNorm Norm = "rank"    // 1 − (rank−1)/n over the run's n hits
	Borda    Norm = "borda"   // 1 − (rank−1)/c over the c candidates of all runs; unretrieved: ½ − (n−1)/2c
	NoNorm   Norm = "none"    // raw scores
)

// Norms lists the supported normalisations.
func Norms() []Norm { return []Norm{MinMax, MaxNorm, SumNorm, ZMUV, RankNorm, Borda, NoNorm} }

// DefaultRRFK is RRF's k in ranx, Pyserini and the original paper.
const DefaultRRFK = 60

// Options configure Fuse.
type Options struct {
	Method Method
	// Norm is the normalisation for score-based methods; "" means
	// min-max (ranx's default). Rank-based methods take "" or "none".
	Norm Norm
	// Weights has one weight per run, for weighted methods only; nil
	// means every weight is 1.
	Weights []float64
	// RRFK is RRF's k; 0 means DefaultRRFK.
	RRFK float64
	// Depth keeps each run's top Depth hits per query before fusing;
	// 0 keeps all.
	Depth int
	// K keeps the top K fused hits per query; 0 keeps all.
	K int
}

// resolved returns o with defaults filled in, or an error naming the
// first bad option.
func (o Options) resolved(runs int) (Options, error) {
	if runs < 2 {
		return o, fmt.Errorf("fusion: %d run(s): fusing needs at least two", runs)
	}
	if !slices.Contains(Methods(), o.Method) {
		return o, fmt.Errorf("fusion: method %q: want one of %q", o.Method, Methods())
	}
	switch {
	case o.Norm == "" && o.Method.RankBased():
		o.Norm = NoNorm
	case o.Norm == "":
		o.Norm = MinMax
	case !slices.Contains(Norms(), o.Norm):
		return o, fmt.Errorf("fusion: normalization %q: want one of %q", o.Norm, Norms())
	case o.Method.RankBased() && o.Norm != NoNorm:
		return o, fmt.Errorf("fusion: method %q fuses ranks: normalization %q does not apply (leave it unset or \"none\")", o.Method, o.Norm)
	}
	if o.Weights != nil {
		if !o.Method.Weighted() {
			return o, fmt.Errorf("fusion: method %q takes no weights (weighted methods: wsum, wmnz, w_bordafuse)", o.Method)
		}
		if len(o.Weights) != runs {
			return o, fmt.Errorf("fusion: %d weights for %d runs", len(o.Weights), runs)
		}
		for i, w := range o.Weights {
			if math.IsNaN(w) || math.IsInf(w, 0) {
				return o, fmt.Errorf("fusion: weight %d is %v", i+1, w)
			}
		}
	} else {
		o.Weights = make([]float64, runs)
		for i := range o.Weights {
			o.Weights[i] = 1
		}
	}
	if o.RRFK == 0 {
		o.RRFK = DefaultRRFK
	}
	if o.RRFK < 0 || math.IsNaN(o.RRFK) || math.IsInf(o.RRFK, 0) {
		return o, fmt.Errorf("fusion: rrf_k = %v: want a finite number ≥ 0", o.RRFK)
	}
	if o.Depth < 0 {
		return o, fmt.Errorf("fusion: depth = %d: want ≥ 0 (0: all hits)", o.Depth)
	}
	if o.K < 0 {
		return o, fmt.Errorf("fusion: k = %d: want ≥ 0 (0: all hits)", o.K)
	}
	return o, nil
}

// Check reports whether o is valid for fusing the given number of runs.
func (o Options) Check(runs int) error {
	_, err := o.resolved(runs)
	return err
}

// Fuse fuses runs query by query. Every query of any run is fused; a run
// without a query counts as an empty ranking for it (ranx's convention
// for missing queries, Run.make_comparable). The input runs are not
// modified.
func Fuse(runs []trec.Run, o Options) (trec.Run, error) {
	o, err := o.resolved(len(runs))
	if err != nil {
		return nil, err
	}
	queries := map[string]struct{}{}
	for _, r := range runs {
		for q := range r {
			queries[q] = struct{}{}
		}
	}
	out := make(trec.Run, len(queries))
	lists := make([][]trec.Hit, len(runs))
	for q := range queries {
		for i, r := range runs {
			lists[i] = r[q]
		}
		out[q] = fuseQuery(lists, o)
	}
	return out, nil
}

// FuseQuery fuses one query's hit lists, one per run (in any order; they
// are not modified), and returns the fused hits in trec_eval order.
func FuseQuery(lists [][]trec.Hit, o Options) ([]trec.Hit, error) {
	o, err := o.resolved(len(lists))
	if err != nil {
		return nil, err
	}
	return fuseQuery(lists, o), nil
}

func fuseQuery(lists [][]trec.Hit, o Options) []trec.Hit {
	ranked := make([][]trec.Hit, len(lists))
	for i, l := range lists {
		l = slices.Clone(l)
		trec.SortHits(l)
		if o.Depth > 0 && len(l) > o.Depth {
			l = l[:o.Depth]
		}
		ranked[i] = l
	}
	t := newTable(ranked)
	if o.Method.RankBased() {
		t.rankValues(o)
	} else {
		t.normalize(o.Norm)
	}
	hits := t.combine(o)
	trec.SortHits(hits)
	if o.K > 0 && len(hits) > o.K {
		hits = hits[:o.K]
	}
	return hits
}
