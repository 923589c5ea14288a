// Package plan turns a decoded recipe into a DAG of stage instances and
// decides, without running anything, which stages are cached and why the
// others must run.
//
// A stage's cache key hashes the schema version, its kind (block, method,
// implementation version), its identity parameters and the content
// digests of its inputs. The digest of an upstream output comes from the
// upstream manifest, so a stage's key is known only once its upstream
// stages are in the cache: when an upstream stage re-runs and produces the
// same bytes, everything below it is still cached.
package plan

import (
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/dominikbraun/graph"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/recipe"
)

// Plan is the DAG of a recipe's stage instances.
type Plan struct {
	Recipe *recipe.Recipe
	// Graph has an edge from each stage to every stage reading its
	// outputs.
	Graph graph.Graph[string, *recipe.Stage]
	// Stages lists the instances in a topological order; among stages
	// ready at the same time, the one declared first comes first.
	Stages []*recipe.Stage
}

// Build makes the DAG. The recipe must have loaded without errors (the
// loader reports reference cycles with their positions; Build only
// double-checks).
func Build(r *recipe.Recipe) (*Plan, error) {
	g := graph.New(func(s *recipe.Stage) string { return s.Address }, graph.Directed(), graph.Acyclic(), graph.PreventCycles())
	pos := map[string]int{}
	for i, st := range r.Stages {
		pos[st.Address] = i
		if err := g.AddVertex(st); err != nil {
			return nil, fmt.Errorf("plan: %s: %w", st.Address, err)
		}
	}
	for _, st := range r.Stages {
		for _, up := range st.Upstream() {
			if _, ok := pos[up]; !ok {
				return nil, fmt.Errorf("plan: %s refers to unknown stage %s", st.Address, up)
			}
			err := g.AddEdge(up, st.Address)
			if errors.Is(err, graph.ErrEdgeCreatesCycle) {
				return nil, fmt.Errorf("plan: %s and %s refer to each other (reference cycle)", up, st.Address)
			}
			if err != nil && !errors.Is(err, graph.ErrEdgeAlreadyExists) {
				return nil, fmt.Errorf("plan: %w", err)
			}
		}
	}
	order, err := stableOrder(g, pos)
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	p := &Plan{Recipe: r, Graph: g}
	for _, addr := range order {
		p.Stages = append(p.Stages, r.Stage(addr))
	}
	return p, nil
}

// stableOrder is a topological order that, among stages ready at the same
// time, takes the one declared first (Kahn's algorithm with a heap; the
// graph library's stable sort is quadratic, too slow for large sweeps).
func stableOrder(g graph.Graph[string, *recipe.Stage], pos map[string]int) ([]string, error) {
	preds, err := g.PredecessorMap()
	if err != nil {
		return nil, err
	}
	adj, err := g.AdjacencyMap()
	if err != nil {
		return nil, err
	}
	waiting := map[string]int{}
	ready := &byPosition{pos: pos}
	for v, p := range preds {
		waiting[v] = len(p)
		if len(p) == 0 {
			heap.Push(ready, v)
		}
	}
	var order []string
	for ready.Len() > 0 {
		v := heap.Pop(ready).(string)
		order = append(order, v)
		for next := range adj[v] {
			waiting[next]--
			if waiting[next] == 0 {
				heap.Push(ready, next)
			}
		}
	}
	if len(order) != len(preds) {
		return nil, errors.New("the stages refer to each other in a cycle")
	}
	return order, nil
}

// byPosition is a min-heap of addresses by declaration position.
type byPosition struct {
	pos   map[string]int
	addrs []string
}

func (h *byPosition) Len() int           { return len(h.addrs) }
func (h *byPosition) Less(i, j int) bool { return h.pos[h.addrs[i]] < h.pos[h.addrs[j]] }
func (h *byPosition) Swap(i, j int)      { h.addrs[i], h.addrs[j] = h.addrs[j], h.addrs[i] }
func (h *byPosition) Push(x any)         { h.addrs = append(h.addrs, x.(string)) }
func (h *byPosition) Pop() any {
	x := h.addrs[len(h.addrs)-1]
	h.addrs = h.addrs[:len(h.addrs)-1]
	return x
}

// Downstream returns the addresses of the stages that read st's outputs.
func (p *Plan) Downstream(address string) []string {
	adj, err := p.Graph.AdjacencyMap()
	if err != nil {
		return nil
	}
	var out []string
	for next := range adj[address] {
		out = append(out, next)
	}
	sort.Strings(out)
	return out
}

// InputDigests collects the content digests of a stage's inputs.
// outputDigest returns the digest of an upstream output, or ok=false when
// that stage is not in the cache yet; such upstream addresses are
// returned in pending (and the stage's key cannot be computed yet).
func InputDigests(st *recipe.Stage, outputDigest func(ref recipe.OutputRef) (string, bool), files recipe.Hasher) (digests map[string]string, pending []string, err error) {
	digests = map[string]string{}
	seen := map[string]bool{}
	for _, in := range st.Inputs() {
		if in.From != nil {
			d, ok := outputDigest(*in.From)
			if !ok {
				if !seen[in.From.Address] {
					seen[in.From.Address] = true
					pending = append(pending, in.From.Address)
				}
				continue
			}
			digests[in.Name] = d
			continue
		}
		d, err := files.Digest(in.Path)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: input %s: %w", st.Address, in.Name, err)
		}
		digests[in.Name] = d
	}
	return digests, pending, nil
}

// Decision is what a run would do with one stage.
type Decision struct {
	Stage *recipe.Stage
	// Key is "" while an upstream stage still has to run.
	Key      string
	Parts    *Parts
	Cached   bool
	Manifest *cache.Manifest // when cached
	// Reasons say why the stage will run.
	Reasons []string
}

// Resolve decides, for every stage in order, whether it is cached and if
// not, why it will run. It reads the cache and never writes to it.
func (p *Plan) Resolve(c *cache.Cache, files recipe.Hasher) ([]*Decision, error) {
	refs, err := c.Refs(p.Recipe.Path)
	if err != nil {
		return nil, err
	}
	byAddr := map[string]*Decision{}
	var out []*Decision
	for _, st := range p.Stages {
		d := &Decision{Stage: st}
		byAddr[st.Address] = d
		out = append(out, d)
		digests, pending, err := InputDigests(st, func(ref recipe.OutputRef) (string, bool) {
			up := byAddr[ref.Address]
			if up == nil || !up.Cached {
				return "", false
			}
			dg, ok := up.Manifest.Outputs[ref.Output]
			return dg, ok
		}, files)
		if err != nil {
			return nil, err
		}
		if len(pending) > 0 {
			for _, up := range pending {
				d.Reasons = append(d.Reasons, "upstream "+up+" will run")
			}
			// The key is not known yet, but changes of the stage's own
			// parameters can already be named.
			if ref, ok := refs.Stages[st.Address]; ok {
				if old := decodeParts(ref.Parts); old != nil {
					if cur, err := PartsFor(st, withPlaceholders(st, digests)); err == nil {
						old.Inputs, cur.Inputs = nil, nil
						if old.Key() != cur.Key() {
							d.Reasons = append(d.Reasons, Explain(old, cur)...)
						}
					}
				}
			}
			continue
		}
		parts, err := PartsFor(st, digests)
		if err != nil {
			return nil, err
		}
		d.Parts, d.Key = &parts, parts.Key()
		if m, ok := c.Lookup(d.Key); ok {
			d.Cached, d.Manifest = true, m
			continue
		}
		var old *Parts
		if ref, ok := refs.Stages[st.Address]; ok {
			old = decodeParts(ref.Parts)
		}
		d.Reasons = Explain(old, parts)
	}
	return out, nil
}

// EncodeParts is how parts are stored in refs.
func EncodeParts(p Parts) []byte {
	data, _ := json.Marshal(p)
	return data
}

// withPlaceholders fills the digests of inputs that are not known yet, so
// the other parts of a key can be compared.
func withPlaceholders(st *recipe.Stage, digests map[string]string) map[string]string {
	out := map[string]string{}
	for _, in := range st.Inputs() {
		out[in.Name] = digests[in.Name]
	}
	return out
}
