// Package target narrows a plan to the stages one asks for and what they
// need, as make, snakemake and `dvc repro` do with their targets: `irflow
// run RECIPE index.bm25 evaluate.bm25` runs those two stages and their
// upstream stages, nothing else.
package target

import (
	"fmt"
	"sort"
	"strings"

	"github.com/irflow/irflow/pipeline/plan"
)

// Select returns the plan of the named stages and their transitive
// upstream stages, in the plan's order. An address names one stage
// (`search.bm25["k1=0.9"]`) or, without its for_each key, every instance
// of a block (`search.bm25`). No addresses: the plan itself.
func Select(p *plan.Plan, addresses []string) (*plan.Plan, error) {
	if len(addresses) == 0 {
		return p, nil
	}
	instances := map[string][]string{} // block.name → its addresses
	for _, st := range p.Stages {
		base := st.Block + "." + st.Name
		instances[base] = append(instances[base], st.Address)
	}
	want := map[string]bool{}
	var queue []string
	for _, a := range addresses {
		a = strings.TrimSpace(a)
		var hits []string
		if p.Recipe.Stage(a) != nil {
			hits = []string{a}
		} else {
			hits = instances[a]
		}
		if len(hits) == 0 {
			return nil, unknown(p, a)
		}
		for _, h := range hits {
			if !want[h] {
				want[h] = true
				queue = append(queue, h)
			}
		}
	}
	for len(queue) > 0 {
		st := p.Recipe.Stage(queue[0])
		queue = queue[1:]
		for _, up := range st.Upstream() {
			if !want[up] {
				want[up] = true
				queue = append(queue, up)
			}
		}
	}
	r := *p.Recipe // shallow: stages are shared, only the list is narrowed
	r.Stages = nil
	for _, st := range p.Recipe.Stages {
		if want[st.Address] {
			r.Stages = append(r.Stages, st)
		}
	}
	return plan.Build(&r)
}

// unknown lists the recipe's addresses (blocks of for_each instances once,
// with their instance count) so the user sees what to type.
func unknown(p *plan.Plan, a string) error {
	var names []string
	seen := map[string]int{}
	for _, st := range p.Recipe.Stages {
		base := st.Block + "." + st.Name
		if st.HasKey {
			if seen[base] == 0 {
				names = append(names, base)
			}
			seen[base]++
			continue
		}
		names = append(names, st.Address)
	}
	for i, n := range names {
		if c := seen[n]; c > 0 {
			names[i] = fmt.Sprintf("%s (%d instances, or one as %s[\"key\"])", n, c, n)
		}
	}
	sort.Strings(names)
	return fmt.Errorf("%s: no stage %q in this recipe; its stages are:\n  %s", p.Recipe.Path, a, strings.Join(names, "\n  "))
}

// Addresses returns the addresses of the plan's stages, in order.
func Addresses(p *plan.Plan) []string {
	out := make([]string, len(p.Stages))
	for i, st := range p.Stages {
		out[i] = st.Address
	}
	return out
}
