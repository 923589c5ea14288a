package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/irflow/irflow/pipeline/recipe"
	"github.com/irflow/irflow/pipeline/stage"
)

// SchemaVersion is part of every cache key: bump it when what goes into a
// key changes, so old artifacts are not mistaken for new ones (and update
// the literals of TestGoldenKey deliberately). 2: Components.
const SchemaVersion = 2

// Parts are the components a cache key is the hash of. Paths are not among
// them — only content — so a recipe yields the same keys on every machine.
type Parts struct {
	Schema  int    `json:"schema"`
	Block   string `json:"block"`
	Method  string `json:"method"`
	Version int    `json:"version"`
	// Params holds the identity parameters (not Meta, not inputs) in
	// canonical JSON, by name.
	Params map[string]json.RawMessage `json:"params"`
	// Inputs holds the content digest of each input by parameter name;
	// list elements are named "runs[0]", "runs[1]", ….
	Inputs map[string]string `json:"inputs"`
	// Components holds the version of every component the kind uses and
	// of every format it writes, by name (stage.KeyComponents).
	Components map[string]string `json:"components"`
}

// Key is the hex sha256 of the canonical JSON of the parts (encoding/json
// writes map keys sorted, so the order parameters are written in a recipe
// does not matter).
func (p Parts) Key() string {
	data, err := json.Marshal(p)
	if err != nil {
		// Parts holds only strings, ints and validated raw JSON.
		panic(fmt.Sprintf("plan: marshal key parts: %v", err))
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// PartsFor computes the key parts of a stage from the digests of its
// inputs (see InputDigests).
func PartsFor(st *recipe.Stage, inputs map[string]string) (Parts, error) {
	comps, err := stage.KeyComponents(st.Kind)
	if err != nil {
		return Parts{}, fmt.Errorf("%s: %w", st.Address, err)
	}
	p := Parts{
		Schema:     SchemaVersion,
		Block:      st.Kind.Block,
		Method:     st.Kind.Method,
		Version:    st.Kind.Version,
		Params:     map[string]json.RawMessage{},
		Inputs:     map[string]string{},
		Components: comps,
	}
	for _, param := range st.Kind.Params {
		if param.Meta || param.Type == stage.Input || param.Type == stage.InputList {
			continue
		}
		v, ok := st.Params[param.Name]
		if !ok {
			continue
		}
		raw, err := canonical(v)
		if err != nil {
			return Parts{}, fmt.Errorf("%s: parameter %s: %w", st.Address, param.Name, err)
		}
		p.Params[param.Name] = raw
	}
	for _, in := range st.Inputs() {
		d, ok := inputs[in.Name]
		if !ok {
			return Parts{}, fmt.Errorf("%s: no digest for input %s", st.Address, in.Name)
		}
		p.Inputs[in.Name] = d
	}
	return p, nil
}

// canonical encodes a decoded parameter value as compact JSON. Numbers
// use the shortest representation that round-trips (0.9, 100, 1e-05).
func canonical(v any) (json.RawMessage, error) {
	if f, ok := v.(float64); ok && (math.IsInf(f, 0) || math.IsNaN(f)) {
		return nil, fmt.Errorf("%v is not a finite number", f)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// Explain says why a stage whose key is cur (and is not in the cache) must
// run, given the parts last committed for the same address (nil: none).
func Explain(old *Parts, cur Parts) []string {
	if old == nil {
		return []string{"new stage"}
	}
	if old.Key() == cur.Key() {
		return []string{"its artifact is no longer in the cache"}
	}
	var why []string
	if old.Schema != cur.Schema {
		why = append(why, fmt.Sprintf("cache key schema changed from %d to %d", old.Schema, cur.Schema))
	}
	if old.Block != cur.Block || old.Method != cur.Method {
		why = append(why, fmt.Sprintf("method changed from %s to %s", methodName(*old), methodName(cur)))
	} else if old.Version != cur.Version {
		why = append(why, fmt.Sprintf("implementation version of %s changed from %d to %d", methodName(cur), old.Version, cur.Version))
	}
	if old.Schema == cur.Schema {
		why = append(why, diffMap("component", old.Components, cur.Components, shortValue)...)
	}
	why = append(why, diffMap("parameter", rawStrings(old.Params), rawStrings(cur.Params), shortValue)...)
	why = append(why, diffMap("input", old.Inputs, cur.Inputs, shortDigest)...)
	if len(why) == 0 {
		why = append(why, "its cache key changed")
	}
	return why
}

func methodName(p Parts) string {
	if p.Method == "" {
		return p.Block
	}
	return p.Block + "/" + p.Method
}

func rawStrings(m map[string]json.RawMessage) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		var b bytes.Buffer
		if json.Compact(&b, v) == nil {
			out[k] = b.String()
		} else {
			out[k] = string(v)
		}
	}
	return out
}

func diffMap(what string, old, cur map[string]string, show func(string) string) []string {
	names := map[string]bool{}
	for k := range old {
		names[k] = true
	}
	for k := range cur {
		names[k] = true
	}
	sorted := make([]string, 0, len(names))
	for k := range names {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var why []string
	for _, k := range sorted {
		o, hadOld := old[k]
		c, hasCur := cur[k]
		switch {
		case !hadOld:
			why = append(why, fmt.Sprintf("%s %s added (%s)", what, k, show(c)))
		case !hasCur:
			why = append(why, fmt.Sprintf("%s %s removed (was %s)", what, k, show(o)))
		case o != c:
			switch what {
			case "input":
				why = append(why, fmt.Sprintf("input %s changed (content %s → %s)", k, show(o), show(c)))
			case "component":
				why = append(why, fmt.Sprintf("component %s changed from %s to %s", k, show(o), show(c)))
			default:
				why = append(why, fmt.Sprintf("parameter %s changed from %s to %s", k, show(o), show(c)))
			}
		}
	}
	return why
}

func shortValue(s string) string {
	if len(s) > 60 {
		return s[:57] + "…"
	}
	return s
}

func shortDigest(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// decodeParts reads parts stored in refs.
func decodeParts(raw json.RawMessage) *Parts {
	if len(raw) == 0 {
		return nil
	}
	var p Parts
	if err := json.Unmarshal(raw, &p); err != nil {
		return nil
	}
	return &p
}
