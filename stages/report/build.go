package report

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/irflow/irflow/ir/metrics"
	"github.com/irflow/irflow/ir/significance"
	"github.com/irflow/irflow/ir/trec"
)

// Entry is one run to report: a system (a table row) on a group of
// queries (a column group, e.g. "DL19"), judged by the group's qrels.
type Entry struct {
	System string
	Group  string
	Run    trec.Run
}

// Config says what to measure and how to compare.
type Config struct {
	// Measures in ir-measures syntax, spelled as they will be printed.
	Measures []string
	// Baseline is the system every other is tested against; "" tests
	// all pairs.
	Baseline   string
	Test       significance.Test
	Correction significance.Correction
	// Alpha is the significance level the adjusted p-values are held to.
	Alpha        float64
	Permutations int
	Seed         uint64
	// Complete averages over every query of the qrels, a query missing
	// from a run scoring 0 (trec_eval -c); otherwise over the queries all
	// of a group's runs and its qrels share.
	Complete bool
	// Digits is the number of decimals printed in the tables.
	Digits int
	// PRRel is the lowest grade that counts as relevant in the
	// precision–recall curves (trec_eval -l).
	PRRel int
}

// Report is everything a report stage computed: report.json, and what
// the tables and plots are drawn from.
type Report struct {
	Config  Config   `json:"config"`
	Systems []string `json:"systems"` // table rows, in the order first given
	Groups  []*Group `json:"groups"`
}

// Group is one set of queries with its qrels.
type Group struct {
	Name    string    `json:"name"`
	Queries []string  `json:"queries"`
	Results []*Result `json:"results"` // in the order of Report.Systems; absent systems are missing
	// Comparisons are the paired tests of this group, per measure.
	Comparisons []Comparison `json:"comparisons"`
	// RecallLevels are 0, 0.1, …, 1; Result.PR holds interpolated
	// precision at them.
	RecallLevels []float64 `json:"recall_levels"`
}

// Result is one system on one group.
type Result struct {
	System string `json:"system"`
	// Mean has one value per measure; PerQuery[i][q] is measure i on
	// Queries[q].
	Mean     []float64   `json:"mean"`
	PerQuery [][]float64 `json:"per_query"`
	// PR is the mean interpolated precision at each recall level.
	PR []float64 `json:"pr"`
	// Missing are judged queries the run lacks (scored 0 with Complete,
	// left out otherwise).
	Missing []string `json:"missing"`
}

// Comparison is one paired test of System against Against on a measure.
type Comparison struct {
	Measure string  `json:"measure"`
	System  string  `json:"system"`
	Against string  `json:"against"`
	Delta   float64 `json:"delta"` // mean(System) − mean(Against)
	P       float64 `json:"p"`
	// PAdjusted is P corrected over the comparisons of its group and
	// measure (the family).
	PAdjusted   float64 `json:"p_adjusted"`
	Significant bool    `json:"significant"` // PAdjusted < Alpha
	Wins        int     `json:"wins"`
	Ties        int     `json:"ties"`
	Losses      int     `json:"losses"`
}

// Result returns the result of a system, or nil.
func (g *Group) Result(system string) *Result {
	for _, r := range g.Results {
		if r.System == system {
			return r
		}
	}
	return nil
}

// Comparison returns the test of system against other on a measure, or
// nil.
func (g *Group) Comparison(measure, system, other string) *Comparison {
	for i, c := range g.Comparisons {
		if c.Measure == measure && c.System == system && c.Against == other {
			return &g.Comparisons[i]
		}
	}
	return nil
}

// Build evaluates every entry against its group's qrels and runs the
// paired tests. Each (system, group) pair may appear once.
func Build(entries []Entry, qrels map[string]trec.Qrels, cfg Config) (*Report, error) {
	if len(entries) == 0 {
		return nil, errors.New("report: no runs")
	}
	measures, err := metrics.ParseAll(cfg.Measures)
	if err != nil {
		return nil, err
	}
	rep := &Report{Config: cfg}
	groups := map[string]*Group{}
	byGroup := map[string][]Entry{}
	for _, e := range entries {
		if !slices.Contains(rep.Systems, e.System) {
			rep.Systems = append(rep.Systems, e.System)
		}
		if groups[e.Group] == nil {
			groups[e.Group] = &Group{Name: e.Group}
			rep.Groups = append(rep.Groups, groups[e.Group])
		}
		for _, o := range byGroup[e.Group] {
			if o.System == e.System {
				return nil, fmt.Errorf("report: system %q is given twice%s", e.System, inGroup(e.Group))
			}
		}
		byGroup[e.Group] = append(byGroup[e.Group], e)
	}
	if cfg.Baseline != "" && !slices.Contains(rep.Systems, cfg.Baseline) {
		return nil, fmt.Errorf("report: baseline %q is none of the systems %q", cfg.Baseline, rep.Systems)
	}
	for _, g := range rep.Groups {
		q := qrels[g.Name]
		if len(q) == 0 {
			return nil, fmt.Errorf("report: no qrels%s", inGroup(g.Name))
		}
		if err := buildGroup(g, byGroup[g.Name], q, measures, cfg); err != nil {
			return nil, err
		}
		if cfg.Baseline != "" && g.Result(cfg.Baseline) == nil {
			return nil, fmt.Errorf("report: baseline %q has no run%s", cfg.Baseline, inGroup(g.Name))
		}
		if err := compare(g, rep.Systems, cfg); err != nil {
			return nil, err
		}
	}
	return rep, nil
}

func inGroup(g string) string {
	if g == "" {
		return ""
	}
	return fmt.Sprintf(" in group %q", g)
}

// buildGroup evaluates the runs of one group on one common query set.
func buildGroup(g *Group, entries []Entry, qrels trec.Qrels, measures []metrics.Measure, cfg Config) error {
	g.RecallLevels = recallLevels()
	evs := make([]*metrics.Evaluation, len(entries))
	var common map[string]bool
	for i, e := range entries {
		run := e.Run
		var missing []string
		for q := range qrels {
			if _, ok := run[q]; !ok {
				missing = append(missing, q)
			}
		}
		slices.Sort(missing)
		if cfg.Complete && len(missing) > 0 {
			// An empty ranking scores 0 on every measure: trec_eval -c.
			run = make(trec.Run, len(e.Run)+len(missing))
			for q, h := range e.Run {
				run[q] = h
			}
			for _, q := range missing {
				run[q] = nil
			}
		}
		ev, err := metrics.Evaluate(run, qrels, measures)
		if err != nil {
			return fmt.Errorf("report: %s%s: %w", e.System, inGroup(g.Name), err)
		}
		evs[i] = ev
		g.Results = append(g.Results, &Result{System: e.System, Missing: nonNil(missing)})
		set := map[string]bool{}
		for _, q := range ev.Queries {
			if common == nil || common[q] {
				set[q] = true
			}
		}
		common = set
	}
	for q := range common {
		g.Queries = append(g.Queries, q)
	}
	slices.Sort(g.Queries)
	if len(g.Queries) == 0 {
		return fmt.Errorf("report: the runs%s share no judged query", inGroup(g.Name))
	}
	for i, e := range entries {
		r := g.Results[i]
		r.Mean = make([]float64, len(measures))
		r.PerQuery = make([][]float64, len(measures))
		for m := range measures {
			vals := make([]float64, len(g.Queries))
			sum := 0.0
			for qi, q := range g.Queries {
				vals[qi] = evs[i].PerQuery[q][m]
				sum += vals[qi]
			}
			r.PerQuery[m] = vals
			r.Mean[m] = sum / float64(len(vals))
		}
		r.PR = meanPR(e.Run, qrels, g.Queries, cfg.PRRel)
	}
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// compare runs the paired tests of a group: every system against the
// baseline, or every pair (earlier system as Against), and adjusts the
// p-values per measure.
func compare(g *Group, systems []string, cfg Config) error {
	type pair struct{ sys, against string }
	var pairs []pair
	present := func(s string) bool { return g.Result(s) != nil }
	if cfg.Baseline != "" {
		for _, s := range systems {
			if s != cfg.Baseline && present(s) {
				pairs = append(pairs, pair{s, cfg.Baseline})
			}
		}
	} else {
		for i, a := range systems {
			for _, b := range systems[i+1:] {
				if present(a) && present(b) {
					pairs = append(pairs, pair{b, a})
				}
			}
		}
	}
	opt := significance.Options{Test: cfg.Test, Permutations: cfg.Permutations, Seed: cfg.Seed}
	for mi, m := range cfg.Measures {
		first := len(g.Comparisons)
		var ps []float64
		for _, pr := range pairs {
			a, b := g.Result(pr.sys), g.Result(pr.against)
			p, err := significance.Compare(a.PerQuery[mi], b.PerQuery[mi], opt)
			if err != nil {
				return fmt.Errorf("report: %s vs %s on %s%s: %w", pr.sys, pr.against, m, inGroup(g.Name), err)
			}
			w := significance.Count(a.PerQuery[mi], b.PerQuery[mi])
			g.Comparisons = append(g.Comparisons, Comparison{Measure: m, System: pr.sys, Against: pr.against,
				Delta: a.Mean[mi] - b.Mean[mi], P: p, Wins: w.Wins, Ties: w.Ties, Losses: w.Losses})
			ps = append(ps, p)
		}
		adj, err := significance.Adjust(ps, cfg.Correction)
		if err != nil {
			return err
		}
		for i := range adj {
			c := &g.Comparisons[first+i]
			c.PAdjusted = adj[i]
			c.Significant = adj[i] < cfg.Alpha && !math.IsNaN(adj[i])
		}
	}
	return nil
}

// recallLevels are trec_eval's iprec_at_recall cut-offs 0.0 … 1.0.
func recallLevels() []float64 {
	r := make([]float64, 11)
	for i := range r {
		r[i] = float64(i) / 10
	}
	return r
}

// meanPR is the mean over queries of trec_eval's iprec_at_recall: at each
// recall level r, the highest precision at any rank whose recall reaches
// it (ranked the trec_eval way; 0 for a query without relevant documents).
// As trec_eval, level r is reached with ⌊r·R + 0.9⌋ of the R relevant
// documents, the historical rounding of its 11-point averages.
func meanPR(run trec.Run, qrels trec.Qrels, queries []string, rel int) []float64 {
	levels := recallLevels()
	mean := make([]float64, len(levels))
	for _, q := range queries {
		numRel := 0
		for _, g := range qrels[q] {
			if g >= rel {
				numRel++
			}
		}
		if numRel == 0 {
			continue
		}
		hits := slices.Clone(run[q])
		slices.SortFunc(hits, func(a, b trec.Hit) int {
			// trec_eval compares scores as C floats.
			if x, y := float32(a.Score), float32(b.Score); x != y {
				if x > y {
					return -1
				}
				return 1
			}
			return strings.Compare(b.DocID, a.DocID)
		})
		need := make([]int, len(levels))
		for l, r := range levels {
			need[l] = int(r*float64(numRel) + 0.9)
		}
		best := make([]float64, len(levels))
		found := 0
		for i, h := range hits {
			g, ok := qrels[q][h.DocID]
			if !ok || g < rel {
				continue
			}
			found++
			prec := float64(found) / float64(i+1)
			for l := range levels {
				if found >= need[l] && prec > best[l] {
					best[l] = prec
				}
			}
		}
		for l := range mean {
			mean[l] += best[l]
		}
	}
	for l := range mean {
		mean[l] /= float64(len(queries))
	}
	return mean
}
