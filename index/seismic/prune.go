package seismic

import "fmt"

// Pruning rules (Options.Pruning): which postings each term keeps before
// blocking.
const (
	// PruneFixed keeps each term's NumPostings largest postings (irflow's
	// rule, the default; "" means the same).
	PruneFixed = "fixed"
	// PruneGlobalThreshold is pyseismic's GlobalThreshold, the rule its
	// Python build (and so Lightning IR) uses: the NumPostings ×
	// VocabSize largest postings of the whole collection pass, and each
	// term keeps at most NumPostings × MaxFraction of them, its largest.
	// Where the global budget does not bind, this is PruneFixed with
	// NumPostings × MaxFraction postings per term.
	PruneGlobalThreshold = "global_threshold"
)

// DefaultMaxFraction is pyseismic's max_fraction default.
const DefaultMaxFraction = 1.5

// global reports whether o asks for pyseismic's global threshold.
func (o Options) global() bool { return o.Pruning == PruneGlobalThreshold }

// maxFraction is MaxFraction or its default.
func (o Options) maxFraction() float64 {
	if o.MaxFraction == 0 {
		return DefaultMaxFraction
	}
	return o.MaxFraction
}

// perTerm is the most postings a term keeps. pyseismic computes the
// global cap as (n_postings as f32 × max_fraction) as usize, in float32
// and truncated; so does this.
func (o Options) perTerm() int {
	if !o.global() {
		return o.NumPostings
	}
	return int(float32(o.NumPostings) * float32(o.maxFraction()))
}

// checkPruning validates Pruning and MaxFraction.
func (o Options) checkPruning() error {
	switch o.Pruning {
	case "", PruneFixed:
		if o.MaxFraction != 0 {
			return fmt.Errorf("max_fraction = %v is only for pruning %q", o.MaxFraction, PruneGlobalThreshold)
		}
	case PruneGlobalThreshold:
		if !(o.maxFraction() > 0) || o.perTerm() < 1 {
			return fmt.Errorf("max_fraction = %v: want num_postings × max_fraction ≥ 1", o.MaxFraction)
		}
	default:
		return fmt.Errorf("pruning = %q: want %q or %q", o.Pruning, PruneFixed, PruneGlobalThreshold)
	}
	return nil
}

// gate is the global threshold: a posting (d, t) of stored value v
// passes when v > value, or v == value and (d, t) comes no later than
// (doc, term) in document-then-term order — the order pyseismic reads
// the collection in, whose top-k keeps the first of equal values (the
// exact choice among ties at its threshold depends on its heap; this is
// the deterministic one). all: the budget covers every posting.
type gate struct {
	all       bool
	value     uint32
	doc, term uint32
}

// passes reports whether posting (d, t) of stored value v passes g.
func (g gate) passes(d, t, v uint32) bool {
	return g.all || v > g.value || v == g.value && (d < g.doc || d == g.doc && t <= g.term)
}

// globalGate finds the gate admitting the budget largest postings of the
// forward index (budget ≥ 1; stored values order like the values they stand for): a
// two-pass radix select on the values' high then low 16 bits, then one
// pass for the last tie admitted.
func globalGate(f forward, budget int64) gate {
	n := int64(len(f.data) / 2)
	if budget >= n {
		return gate{all: true}
	}
	hist := make([]int64, 1<<16)
	for i := 1; i < len(f.data); i += 2 {
		hist[f.data[i]>>16]++
	}
	hi, above := pick(hist, budget)
	clear(hist)
	for i := 1; i < len(f.data); i += 2 {
		if v := f.data[i]; v>>16 == hi {
			hist[v&0xffff]++
		}
	}
	lo, above2 := pick(hist, budget-above)
	g := gate{value: hi<<16 | lo}
	ties := budget - above - above2 // ties at value admitted, ≥ 1
	for d := 0; d+1 < len(f.offs); d++ {
		for p := f.offs[d]; p < f.offs[d+1]; p++ {
			if f.data[2*p+1] == g.value {
				if ties--; ties == 0 {
					g.doc, g.term = uint32(d), f.data[2*p]
					return g
				}
			}
		}
	}
	panic("seismic: global threshold: ties not found") // the histograms counted them
}

// pick returns the bucket holding the k-th largest element of hist and
// how many elements lie in the buckets above it.
func pick(hist []int64, k int64) (uint32, int64) {
	var above int64
	for b := len(hist) - 1; b >= 0; b-- {
		if above+hist[b] >= k {
			return uint32(b), above
		}
		above += hist[b]
	}
	panic("seismic: global threshold: budget above the postings")
}
