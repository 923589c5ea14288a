package recipe

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/irflow/irflow/pipeline/stage"
)

// decodeStage decodes every instance of a stage block.
func (l *loader) decodeStage(sb *stageBlock) {
	if sb.broken || sb.kind == nil {
		return
	}
	// References are checked once per block, not once per instance.
	scope := refScope{stage: sb}
	valid := map[string]bool{}
	for name, a := range sb.attrs {
		if name != AttrForEach && name != AttrMethod {
			valid[name] = !l.checkRefs(a.Expr, scope).HasErrors()
		}
	}
	for i := range sb.instances {
		l.decodeInstance(sb, &sb.instances[i], valid)
	}
}

func (l *loader) decodeInstance(sb *stageBlock, inst *instance, valid map[string]bool) {
	b := sb.block
	before := len(l.diags)
	st := &Stage{
		Address:     Address(b.Type, b.Labels[0], inst.key, inst.hasKey),
		Block:       b.Type,
		Name:        b.Labels[0],
		Key:         inst.key,
		HasKey:      inst.hasKey,
		Kind:        sb.kind,
		Params:      map[string]any{},
		ParamRanges: map[string]hcl.Range{},
		DeclRange:   b.DefRange,
	}
	ctx := l.context(inst)
	st.Resources = l.decodeResources(sb.resources, ctx)
	for _, p := range sb.kind.Params {
		switch p.Name {
		case AttrMethod, AttrForEach, AttrExpect:
			continue
		}
		a := sb.attrs[p.Name]
		if a != nil && !valid[p.Name] {
			continue
		}
		if a != nil {
			v, diags := a.Expr.Value(ctx)
			l.add(diags)
			if diags.HasErrors() {
				continue
			}
			decoded, state := l.decodeParam(sb.kind, p, v, a.Expr, ctx, st.Address)
			if state == paramInvalid {
				continue
			}
			if state == paramSet {
				st.Params[p.Name] = decoded
				st.ParamRanges[p.Name] = a.Expr.Range()
				continue
			}
			// null: as if absent
			if p.Required && p.Default == nil {
				l.errorf(a.Expr.Range().Ptr(), "Missing required argument",
					"The argument %q is required and cannot be null.", p.Name)
				continue
			}
		}
		if p.Default != nil {
			st.Params[p.Name] = stage.NormalizeDefault(p.Default)
		}
	}
	if a := sb.attrs[AttrExpect]; a != nil && valid[AttrExpect] {
		st.Expect = l.decodeExpect(a, ctx)
	}
	if sb.kind.Check != nil && !l.diags[before:].HasErrors() {
		if err := sb.kind.Check(st.Params); err != nil {
			l.errorf(st.errorRange(err).Ptr(), "Invalid combination of arguments", "%s: %s.", st.Address, err)
		}
	}
	if prev := l.r.byAddress[st.Address]; prev != nil {
		return // duplicate block, already reported
	}
	if l.diags[before:].HasErrors() {
		l.unclean[st.Address] = true
	}
	l.r.Stages = append(l.r.Stages, st)
	l.r.byAddress[st.Address] = st
}

// checkUpstream runs the kinds' CheckUpstream once every stage is decoded,
// on the stages that decoded cleanly and read a cleanly decoded producer.
func (l *loader) checkUpstream() {
	for _, st := range l.r.Stages {
		if st.Kind.CheckUpstream == nil || l.unclean[st.Address] {
			continue
		}
		upstream := func(name string) (stage.Upstream, bool) {
			in, ok := st.Params[name].(Input)
			if !ok || in.From == nil {
				return stage.Upstream{}, false
			}
			prod := l.r.byAddress[in.From.Address]
			if prod == nil || l.unclean[prod.Address] {
				return stage.Upstream{}, false
			}
			return stage.Upstream{Address: prod.Address, Kind: prod.Kind, Params: prod.Params}, true
		}
		if err := st.Kind.CheckUpstream(st.Params, upstream); err != nil {
			l.errorf(st.errorRange(err).Ptr(), "Inconsistent with an upstream stage", "%s: %s.", st.Address, err)
		}
	}
}

// errorRange is where a kind's check error points: the parameter a
// *stage.ParamError names when the recipe gives it, else the block header.
func (st *Stage) errorRange(err error) hcl.Range {
	var pe *stage.ParamError
	if errors.As(err, &pe) {
		if r, ok := st.ParamRanges[pe.Param]; ok {
			return r
		}
	}
	return st.DeclRange
}

type paramState int

const (
	paramSet paramState = iota
	paramNull
	paramInvalid
)

// decodeParam converts an attribute value to the Go value of its
// parameter type and checks it against the parameter's declarations
// (stage.Param: Enum, Min, Max, Integer, Check, Accepts).
func (l *loader) decodeParam(kind *stage.Kind, p stage.Param, v cty.Value, expr hcl.Expression, ctx *hcl.EvalContext, addr string) (any, paramState) {
	rng := expr.Range()
	if !v.IsWhollyKnown() {
		return nil, paramInvalid // follows from an error reported elsewhere
	}
	refs := outputRefs(v)
	v, _ = v.UnmarkDeep()
	if v.IsNull() {
		return nil, paramNull
	}
	if len(refs) > 0 && p.Type != stage.Input && p.Type != stage.InputList {
		l.errorf(rng.Ptr(), "Stage output used as a value",
			"%s is the path of a stage output, known only once that stage has run; it can be given only to an input attribute, and %q is of type %s.", refs[0], p.Name, p.Type)
		return nil, paramInvalid
	}
	conv := func(ty cty.Type) (cty.Value, bool) {
		c, err := convert.Convert(v, ty)
		if err != nil {
			l.errorf(rng.Ptr(), "Incorrect attribute value type",
				"Inappropriate value for attribute %q: %s required, got %s.", p.Name, friendlyType(p.Type), v.Type().FriendlyName())
			return cty.NilVal, false
		}
		return c, true
	}
	noNulls := func(c cty.Value) bool {
		for it := c.ElementIterator(); it.Next(); {
			if _, el := it.Element(); el.IsNull() {
				l.errorf(rng.Ptr(), "Incorrect attribute value type",
					"Inappropriate value for attribute %q: elements must not be null.", p.Name)
				return false
			}
		}
		return true
	}
	checked := func(v any) (any, paramState) {
		if !l.checkValue(p, v, expr, ctx, addr) {
			return nil, paramInvalid
		}
		return v, paramSet
	}
	switch p.Type {
	case stage.String:
		if c, ok := conv(cty.String); ok {
			return checked(c.AsString())
		}
	case stage.Number:
		if c, ok := conv(cty.Number); ok {
			f, _ := c.AsBigFloat().Float64()
			return checked(f)
		}
	case stage.Bool:
		if c, ok := conv(cty.Bool); ok {
			return checked(c.True())
		}
	case stage.StringList:
		if c, ok := conv(cty.List(cty.String)); ok && noNulls(c) {
			out := []string{}
			for _, el := range c.AsValueSlice() {
				out = append(out, el.AsString())
			}
			return checked(out)
		}
	case stage.StringMap:
		if c, ok := conv(cty.Map(cty.String)); ok && noNulls(c) {
			out := map[string]string{}
			for k, el := range c.AsValueMap() {
				out[k] = el.AsString()
			}
			return checked(out)
		}
	case stage.Input:
		if c, ok := conv(cty.String); ok {
			in, ok := l.decodeInput(c.AsString(), rng, kind, p, p.Name, addr)
			if ok && in.From == nil && len(refs) > 0 {
				ok = l.misusedOutput(refs[0], rng)
			}
			if ok {
				return in, paramSet
			}
		}
	case stage.InputList:
		if c, ok := conv(cty.List(cty.String)); ok && noNulls(c) {
			els := c.AsValueSlice()
			ranges := elementRanges(expr, len(els))
			out := []Input{}
			used := map[string]bool{}
			valid := true
			for i, el := range els {
				in, ok := l.decodeInput(el.AsString(), ranges[i], kind, p, fmt.Sprintf("%s[%d]", p.Name, i), addr)
				valid = valid && ok
				if in.From != nil {
					used[in.From.String()] = true
				}
				out = append(out, in)
			}
			for _, r := range refs {
				if !used[r] && valid {
					valid = l.misusedOutput(r, rng)
				}
			}
			if valid {
				return out, paramSet
			}
		}
	default:
		l.errorf(rng.Ptr(), "Unsupported parameter type", "Parameter %q has type %s, which the recipe decoder does not know.", p.Name, p.Type)
	}
	return nil, paramInvalid
}

func (l *loader) misusedOutput(ref string, rng hcl.Range) bool {
	l.errorf(rng.Ptr(), "Stage output changed by an expression",
		"%s names a file that exists only once its stage has run, so it must be given as it is, not passed through functions or templates.", ref)
	return false
}

// decodeInput turns one input string into an upstream reference (when it
// is a stage output's placeholder), a fetched remote reference (when it
// starts with one of p's Schemes) or an absolute path that must exist,
// and checks its format against p.Accepts; param names the input in
// messages ("runs[1]").
func (l *loader) decodeInput(s string, rng hcl.Range, kind *stage.Kind, p stage.Param, param, addr string) (Input, bool) {
	in, ok := l.resolveInput(s, rng, p, param, addr)
	if ok {
		ok = l.checkFormat(p, kind, in, s, param, addr)
	}
	return in, ok
}

func (l *loader) resolveInput(s string, rng hcl.Range, p stage.Param, param, addr string) (Input, bool) {
	if ref, ok := l.placeholders[s]; ok {
		return Input{From: &ref, Range: rng}, true
	}
	if strings.Contains(s, "<irflow output ") {
		for ph, ref := range l.placeholders {
			if strings.Contains(s, ph) {
				return Input{}, l.misusedOutput(ref.String(), rng)
			}
		}
		return Input{}, l.misusedOutput("a stage output", rng)
	}
	what := fmt.Sprintf("input %s of %s", param, addr)
	for _, scheme := range p.Schemes {
		if strings.HasPrefix(s, scheme) {
			dir, ok := l.fetch(s, rng, what)
			return Input{Path: dir, Ref: s, Range: rng}, ok
		}
	}
	abs, ok := l.resolvePath(s, rng, what)
	return Input{Path: abs, Range: rng}, ok
}

// fetch resolves a remote reference through Options.Fetch, once per
// distinct reference.
func (l *loader) fetch(ref string, rng hcl.Range, what string) (string, bool) {
	if dir, ok := l.fetched[ref]; ok {
		return dir, dir != ""
	}
	if l.opts.Fetch == nil {
		l.errorf(rng.Ptr(), "Remote input not supported here", "%s: %s is a remote reference, which this command cannot fetch.", what, ref)
		l.fetched[ref] = ""
		return "", false
	}
	dir, err := l.opts.Fetch(ref)
	if err != nil {
		l.errorf(rng.Ptr(), "Cannot fetch input", "%s: %s: %s.", what, ref, err)
		dir = ""
	}
	l.fetched[ref] = dir
	return dir, dir != ""
}

// elementRanges returns where each element of a list is written, when the
// list is written out as [a, b, …]; otherwise the whole expression.
func elementRanges(expr hcl.Expression, n int) []hcl.Range {
	out := make([]hcl.Range, n)
	tuple, ok := expr.(*hclsyntax.TupleConsExpr)
	for i := range out {
		if ok && len(tuple.Exprs) == n {
			out[i] = tuple.Exprs[i].Range()
		} else {
			out[i] = expr.Range()
		}
	}
	return out
}

func friendlyType(t stage.Type) string {
	switch t {
	case stage.String:
		return "a string"
	case stage.Number:
		return "a number"
	case stage.Bool:
		return "a bool"
	case stage.StringList:
		return "a list of strings"
	case stage.StringMap:
		return "a map of strings"
	case stage.Input:
		return "a path or a stage output"
	case stage.InputList:
		return "a list of paths or stage outputs"
	}
	return t.String()
}

// checkCycles reports loops of references between stage instances, naming
// every stage in the loop.
func (l *loader) checkCycles() {
	type edge struct {
		to  string
		rng hcl.Range
	}
	pos := map[string]int{}
	edges := map[string][]edge{}
	for i, st := range l.r.Stages {
		pos[st.Address] = i
		for _, in := range st.Inputs() {
			if in.From != nil {
				edges[st.Address] = append(edges[st.Address], edge{in.From.Address, in.Range})
			}
		}
	}
	edgeRange := func(from, to string) hcl.Range {
		for _, e := range edges[from] {
			if e.to == to {
				return e.rng
			}
		}
		return hcl.Range{}
	}
	state := map[string]int{}
	reported := map[string]bool{}
	var stack []string
	var visit func(a string)
	visit = func(a string) {
		state[a] = 1
		stack = append(stack, a)
		for _, e := range edges[a] {
			if _, ok := pos[e.to]; !ok {
				continue
			}
			switch state[e.to] {
			case 0:
				visit(e.to)
			case 1:
				start := 0
				for i, s := range stack {
					if s == e.to {
						start = i
					}
				}
				cycle := append([]string(nil), stack[start:]...)
				// Start at the member declared first, for stable messages.
				first := 0
				for i, s := range cycle {
					if pos[s] < pos[cycle[first]] {
						first = i
					}
				}
				cycle = append(cycle[first:], cycle[:first]...)
				key := strings.Join(sortedStrings(cycle), ",")
				if reported[key] {
					continue
				}
				reported[key] = true
				next := cycle[0]
				if len(cycle) > 1 {
					next = cycle[1]
				}
				rng := edgeRange(cycle[0], next)
				if len(cycle) == 1 {
					l.errorf(rng.Ptr(), "Reference cycle",
						"%s refers to its own output, so it would have to run before itself.", cycle[0])
					continue
				}
				l.errorf(rng.Ptr(), "Reference cycle",
					"These stages refer to each other's outputs in a loop, so none of them can run first: %s → %s.",
					strings.Join(cycle, " → "), cycle[0])
			}
		}
		stack = stack[:len(stack)-1]
		state[a] = 2
	}
	addrs := make([]string, 0, len(pos))
	for a := range pos {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return pos[addrs[i]] < pos[addrs[j]] })
	for _, a := range addrs {
		if state[a] == 0 {
			visit(a)
		}
	}
}
