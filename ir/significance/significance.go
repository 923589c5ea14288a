// Package significance holds the paired significance tests IR papers run on
// per-query scores of two systems (paired Student's t-test, Wilcoxon
// signed-rank, Fisher's randomisation test), multiple-testing corrections
// (Bonferroni, Holm) and per-query win/tie/loss counts.
//
// The tests follow scipy.stats (ttest_rel, wilcoxon with its defaults) and
// ranx (fisher_randomization_test), which PyTerrier and ranx use, so
// p-values agree with theirs; where they differ from textbook forms the doc
// comment says how. All tests are two-sided.
package significance

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"gonum.org/v1/gonum/mathext"
)

// Test names a paired test.
type Test string

const (
	TTest       Test = "t"           // paired Student's t-test (scipy.stats.ttest_rel)
	Wilcoxon    Test = "wilcoxon"    // Wilcoxon signed-rank test (scipy.stats.wilcoxon defaults)
	Permutation Test = "permutation" // Fisher's randomisation test (ranx's "fisher")
)

// Tests lists the test names.
func Tests() []string { return []string{string(TTest), string(Wilcoxon), string(Permutation)} }

// Options configure Compare.
type Options struct {
	Test Test
	// Permutations is the number of random sign assignments of the
	// randomisation test (ranx's n_permutations); Seed seeds them.
	Permutations int
	Seed         uint64
}

// ErrLength is returned when the samples are not paired.
var ErrLength = errors.New("significance: samples differ in length or are empty")

// Compare runs the chosen test on paired per-query scores a and b and
// returns its two-sided p-value.
func Compare(a, b []float64, o Options) (float64, error) {
	switch o.Test {
	case TTest:
		return PairedT(a, b)
	case Wilcoxon:
		return SignedRank(a, b)
	case Permutation:
		return Randomization(a, b, o.Permutations, o.Seed)
	}
	return 0, fmt.Errorf("significance: unknown test %q (want one of %v)", o.Test, Tests())
}

func diffs(a, b []float64) ([]float64, error) {
	if len(a) != len(b) || len(a) == 0 {
		return nil, ErrLength
	}
	d := make([]float64, len(a))
	for i := range a {
		d[i] = a[i] - b[i]
	}
	return d, nil
}

// PairedT is the two-sided paired t-test of scipy.stats.ttest_rel:
// t = mean(d) / (sd(d)/√n) with the n−1 standard deviation, n−1 degrees
// of freedom. Where every difference is zero scipy returns NaN; PairedT
// returns 1 (nothing tells the systems apart). Where the differences are
// one non-zero constant, t is infinite and p is 0, as in scipy.
func PairedT(a, b []float64) (float64, error) {
	d, err := diffs(a, b)
	if err != nil {
		return 0, err
	}
	n := float64(len(d))
	if len(d) < 2 {
		return 0, fmt.Errorf("significance: a t-test needs at least 2 pairs, got %d", len(d))
	}
	mean := 0.0
	for _, x := range d {
		mean += x
	}
	mean /= n
	ss := 0.0
	for _, x := range d {
		ss += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(ss / (n - 1))
	if sd == 0 {
		if mean == 0 {
			return 1, nil
		}
		return 0, nil
	}
	t := mean / (sd / math.Sqrt(n))
	df := n - 1
	// P(|T| >= |t|) = I_{df/(df+t²)}(df/2, 1/2).
	return mathext.RegIncBeta(df/2, 0.5, df/(df+t*t)), nil
}

// SignedRank is the two-sided Wilcoxon signed-rank test with
// scipy.stats.wilcoxon's defaults (zero_method "wilcox": zero differences
// are dropped; no continuity correction; method "auto"):
//   - more than 50 pairs, or ties or zeros among more than 13: the normal
//     approximation with the tie-corrected variance;
//   - at most 50 pairs without ties or zeros: the exact distribution of
//     the rank sum, p = 2·min(P(T⁺ ≥ t), P(T⁺ ≤ t));
//   - at most 13 pairs with ties or zeros: every one of the 2ⁿ sign
//     assignments of the differences (scipy's exhaustive permutation test).
//
// Where every difference is zero scipy returns NaN; SignedRank returns 1.
func SignedRank(a, b []float64) (float64, error) {
	all, err := diffs(a, b)
	if err != nil {
		return 0, err
	}
	zeros := 0
	var d []float64
	for _, x := range all {
		if x == 0 {
			zeros++
		} else {
			d = append(d, x)
		}
	}
	if len(d) == 0 {
		return 1, nil
	}
	ranks, tieSizes := absRanks(d)
	rPlus := 0.0
	for i, x := range d {
		if x > 0 {
			rPlus += ranks[i]
		}
	}
	ties := false
	for _, t := range tieSizes {
		if t > 1 {
			ties = true
		}
	}
	n := len(all)
	switch {
	case n <= 50 && !ties && zeros == 0:
		return exactSignedRank(len(d), rPlus), nil
	case n <= 13:
		return enumerateSignedRank(all, rPlus), nil
	}
	c := float64(len(d))
	mn := c * (c + 1) / 4
	tie := 0.0
	for _, t := range tieSizes {
		tf := float64(t)
		tie += tf*tf*tf - tf
	}
	se := math.Sqrt((c*(c+1)*(2*c+1) - tie/2) / 24)
	z := (rPlus - mn) / se
	return math.Erfc(math.Abs(z) / math.Sqrt2), nil
}

// absRanks ranks |d| ascending, ties sharing their average rank, and
// returns the size of every tie group.
func absRanks(d []float64) ([]float64, []int) {
	idx := make([]int, len(d))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return math.Abs(d[idx[i]]) < math.Abs(d[idx[j]]) })
	ranks := make([]float64, len(d))
	var sizes []int
	for i := 0; i < len(idx); {
		j := i
		for j < len(idx) && math.Abs(d[idx[j]]) == math.Abs(d[idx[i]]) {
			j++
		}
		avg := float64(i+1+j) / 2 // ranks i+1 … j
		for k := i; k < j; k++ {
			ranks[idx[k]] = avg
		}
		sizes = append(sizes, j-i)
		i = j
	}
	return ranks, sizes
}

// exactSignedRank is the two-sided exact p-value of rank sum r (an
// integer here: no ties) among n ranks: the count of subsets of 1…n with
// each sum, by dynamic programming, over 2ⁿ.
func exactSignedRank(n int, r float64) float64 {
	max := n * (n + 1) / 2
	counts := make([]float64, max+1)
	counts[0] = 1
	for k := 1; k <= n; k++ {
		for s := max; s >= k; s-- {
			counts[s] += counts[s-k]
		}
	}
	total := math.Ldexp(1, n)
	k := int(math.Round(r))
	le, ge := 0.0, 0.0
	for s, c := range counts {
		if s <= k {
			le += c
		}
		if s >= k {
			ge += c
		}
	}
	return math.Min(1, 2*math.Min(le, ge)/total)
}

// enumerateSignedRank computes the exhaustive permutation p-value of
// scipy.stats.permutation_test for the rank sum of positive differences,
// over all 2ⁿ sign flips of the (zero-including) differences.
func enumerateSignedRank(all []float64, obs float64) float64 {
	n := len(all)
	flipped := make([]float64, n)
	less, greater := 0, 0
	// scipy compares with a relative tolerance (100 machine epsilons) to
	// absorb rounding.
	eps := 100 * 0x1p-52 * math.Abs(obs)
	for mask := 0; mask < 1<<n; mask++ {
		for i, x := range all {
			if mask&(1<<i) != 0 {
				x = -x
			}
			flipped[i] = x
		}
		s := rankSumPositive(flipped)
		if s <= obs+eps {
			less++
		}
		if s >= obs-eps {
			greater++
		}
	}
	total := float64(int(1) << n)
	return math.Min(1, 2*math.Min(float64(less), float64(greater))/total)
}

// rankSumPositive is T⁺ of differences with zeros dropped.
func rankSumPositive(all []float64) float64 {
	var d []float64
	for _, x := range all {
		if x != 0 {
			d = append(d, x)
		}
	}
	ranks, _ := absRanks(d)
	s := 0.0
	for i, x := range d {
		if x > 0 {
			s += ranks[i]
		}
	}
	return s
}

// Randomization is Fisher's randomisation test as ranx runs it: in each of
// n rounds every query's pair of scores is swapped with probability ½, and
// the p-value is the fraction of rounds whose |mean(a′) − mean(b′)|
// reaches the observed |mean(a) − mean(b)| (ranx counts no +1 for the
// observed assignment). The rounds draw from a PCG generator seeded with
// seed, so a seed gives one p-value on every machine; ranx draws from
// numba's generator in parallel threads, so its p-values agree with these
// only within the Monte-Carlo error √(p(1−p)/n).
func Randomization(a, b []float64, n int, seed uint64) (float64, error) {
	d, err := diffs(a, b)
	if err != nil {
		return 0, err
	}
	if n < 1 {
		return 0, fmt.Errorf("significance: the randomisation test needs at least 1 permutation, got %d", n)
	}
	obs := 0.0
	for _, x := range d {
		obs += x
	}
	obs = math.Abs(obs)
	// Sums of the same numbers in another order differ by rounding; an
	// assignment equal to the observed one must count.
	eps := 1e-12 * math.Max(1, obs)
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	hits := 0
	for range n {
		s := 0.0
		for i := 0; i < len(d); i += 64 {
			bits := rng.Uint64()
			for j := i; j < len(d) && j < i+64; j++ {
				if bits&(1<<(j-i)) != 0 {
					s -= d[j]
				} else {
					s += d[j]
				}
			}
		}
		if math.Abs(s) >= obs-eps {
			hits++
		}
	}
	return float64(hits) / float64(n), nil
}

// Correction names a multiple-testing correction.
type Correction string

const (
	NoCorrection Correction = "none"
	Bonferroni   Correction = "bonferroni"
	Holm         Correction = "holm"
)

// Corrections lists the correction names.
func Corrections() []string { return []string{string(NoCorrection), string(Bonferroni), string(Holm)} }

// Adjust returns adjusted p-values for one family of tests, as
// statsmodels' multipletests (which PyTerrier uses) computes them:
// Bonferroni min(1, m·p); Holm's step-down max over j ≤ i of
// min(1, (m − j + 1)·p₍ⱼ₎) in ascending order of p. NaNs stay NaN and do not
// count in m.
func Adjust(p []float64, c Correction) ([]float64, error) {
	out := slices.Clone(p)
	var idx []int
	for i, x := range p {
		if !math.IsNaN(x) {
			idx = append(idx, i)
		}
	}
	m := float64(len(idx))
	switch c {
	case NoCorrection, "":
	case Bonferroni:
		for _, i := range idx {
			out[i] = math.Min(1, p[i]*m)
		}
	case Holm:
		sort.SliceStable(idx, func(x, y int) bool { return p[idx[x]] < p[idx[y]] })
		run := 0.0
		for j, i := range idx {
			run = math.Max(run, math.Min(1, (m-float64(j))*p[i]))
			out[i] = run
		}
	default:
		return nil, fmt.Errorf("significance: unknown correction %q (want one of %v)", c, Corrections())
	}
	return out, nil
}

// WTL counts queries where a scores higher than b (wins), equal (ties)
// and lower (losses).
type WTL struct{ Wins, Ties, Losses int }

// Count compares paired scores query by query.
func Count(a, b []float64) WTL {
	var w WTL
	for i := range a {
		switch {
		case a[i] > b[i]:
			w.Wins++
		case a[i] < b[i]:
			w.Losses++
		default:
			w.Ties++
		}
	}
	return w
}
