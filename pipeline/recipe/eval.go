package recipe

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// definition is something other expressions refer to by name and that
// must be evaluated before them: a local value, a collection or file
// block, or a stage block's for_each (which decides its instances).
type definition struct {
	id    string // local.x, collection.x, file.x, search.x
	rng   hcl.Range
	exprs []hcl.Expression
	eval  func()
	state int // 0 new, 1 in progress, 2 done
}

// evaluateDefinitions evaluates every definition after the ones it refers
// to. References between definitions that loop are reported with every
// member of the loop.
func (l *loader) evaluateDefinitions() {
	defs := map[string]*definition{}
	var order []*definition
	add := func(d *definition) {
		defs[d.id] = d
		order = append(order, d)
	}
	for name, a := range l.locals {
		a := a
		name := name
		l.localVals[name] = cty.DynamicVal
		add(&definition{id: "local." + name, rng: a.Range, exprs: []hcl.Expression{a.Expr}, eval: func() { l.evalLocal(name, a) }})
	}
	for typ, blocks := range l.inputs {
		for name, ib := range blocks {
			ib := ib
			var exprs []hcl.Expression
			for _, a := range ib.attrs {
				exprs = append(exprs, a.Expr)
			}
			add(&definition{id: typ + "." + name, rng: ib.block.DefRange, exprs: exprs, eval: func() { l.evalInput(ib) }})
		}
	}
	for typ, blocks := range l.stageIndex {
		for name, sb := range blocks {
			sb := sb
			var exprs []hcl.Expression
			if a := sb.attrs[AttrForEach]; a != nil {
				exprs = append(exprs, a.Expr)
			}
			add(&definition{id: typ + "." + name, rng: sb.block.DefRange, exprs: exprs, eval: func() { l.evalForEach(sb) }})
		}
	}
	sort.Slice(order, func(i, j int) bool { return rangeLess(order[i].rng, order[j].rng) })

	reported := map[string]bool{}
	var stack []*definition
	var visit func(d *definition)
	visit = func(d *definition) {
		d.state = 1
		stack = append(stack, d)
		for _, dep := range l.dependencies(d.exprs) {
			next := defs[dep]
			if next == nil {
				continue
			}
			switch next.state {
			case 0:
				visit(next)
			case 1:
				var ids []string
				start := 0
				for i, s := range stack {
					if s == next {
						start = i
					}
				}
				for _, s := range stack[start:] {
					ids = append(ids, s.id)
				}
				key := strings.Join(sortedStrings(ids), ",")
				if !reported[key] {
					reported[key] = true
					l.errorf(next.rng.Ptr(), "Reference cycle",
						"These definitions refer to each other in a loop, so none can be evaluated first: %s → %s.",
						strings.Join(ids, " → "), next.id)
				}
			}
		}
		stack = stack[:len(stack)-1]
		d.eval()
		d.state = 2
	}
	for _, d := range order {
		if d.state == 0 {
			visit(d)
		}
	}
}

// dependencies lists the definitions an expression refers to.
func (l *loader) dependencies(exprs []hcl.Expression) []string {
	var deps []string
	for _, expr := range exprs {
		for _, tr := range expr.Variables() {
			root := tr.RootName()
			name, _, ok := attrAt(tr, 1)
			if !ok {
				continue
			}
			switch root {
			case "var", "each":
			case "local", BlockCollection, BlockFile:
				deps = append(deps, root+"."+name)
			default:
				if l.stageIndex[root] != nil {
					deps = append(deps, root+"."+name)
				}
			}
		}
	}
	return deps
}

func (l *loader) evalLocal(name string, a *hcl.Attribute) {
	if l.checkRefs(a.Expr, refScope{}).HasErrors() {
		return
	}
	v, diags := a.Expr.Value(l.context(nil))
	l.add(diags)
	if diags.HasErrors() {
		return
	}
	l.localVals[name] = v
}

// evalForEach decides the instances of a stage block.
func (l *loader) evalForEach(sb *stageBlock) {
	defer func() { sb.obj = l.stageObject(sb) }()
	if sb.kind == nil {
		sb.broken = true
		return
	}
	if !sb.hasForEach {
		sb.instances, sb.evaluated = []instance{{}}, true
		return
	}
	a := sb.attrs[AttrForEach]
	if l.checkRefs(a.Expr, refScope{stage: sb, inForEach: true}).HasErrors() {
		sb.broken = true
		return
	}
	v, diags := a.Expr.Value(l.context(nil))
	l.add(diags)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		sb.broken = true
		return
	}
	insts, ok := l.forEachInstances(v, a.Expr.Range())
	sb.instances, sb.broken, sb.evaluated = insts, !ok, ok
}

// MaxInstances bounds the instances of one for_each block: a sweep larger
// than this is a mistake (or a hostile recipe), not an experiment.
const MaxInstances = 100000

const forEachHint = `For a sweep over several parameters, build a map, e.g. for_each = { for p in setproduct([0.9, 1.2], [0.4, 0.75]) : "k1=${p[0]},b=${p[1]}" => { k1 = p[0], b = p[1] } }.`

func (l *loader) forEachInstances(v cty.Value, rng hcl.Range) ([]instance, bool) {
	bad := func(format string, args ...any) ([]instance, bool) {
		l.errorf(rng.Ptr(), "Invalid for_each argument", format, args...)
		return nil, false
	}
	if refs := outputRefs(v); len(refs) > 0 {
		return bad("for_each cannot use stage outputs such as %s: the instances of a stage must be known before anything runs.", refs[0])
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() {
		return bad("for_each is null; it must be a map, or a set or list of strings.")
	}
	ty := v.Type()
	var insts []instance
	switch {
	case ty.IsMapType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			k, val := it.Element()
			insts = append(insts, instance{key: k.AsString(), hasKey: true, value: val})
		}
	case ty.IsSetType() || ty.IsListType() || ty.IsTupleType():
		seen := map[string]bool{}
		i := 0
		for it := v.ElementIterator(); it.Next(); i++ {
			_, el := it.Element()
			if el.IsNull() {
				return bad("Element %d of for_each is null; keys must be strings.", i)
			}
			s, err := convert.Convert(el, cty.String)
			if err != nil {
				return bad("The elements of a for_each set or list must be strings (or numbers), but element %d is %s. %s", i, el.Type().FriendlyName(), forEachHint)
			}
			key := s.AsString()
			if seen[key] {
				return bad("The key %q occurs twice; instance keys must be unique.", key)
			}
			seen[key] = true
			insts = append(insts, instance{key: key, hasKey: true, value: el})
		}
	default:
		return bad("for_each must be a map, or a set or list of strings, not %s. %s", ty.FriendlyName(), forEachHint)
	}
	if len(insts) > MaxInstances {
		return bad("for_each makes %d instances; a block may have at most %d.", len(insts), MaxInstances)
	}
	sort.Slice(insts, func(i, j int) bool { return insts[i].key < insts[j].key })
	return insts, true
}

// outputRefs returns the stage outputs a value was computed from, sorted.
func outputRefs(v cty.Value) []string {
	_, pvms := v.UnmarkDeepWithPaths()
	seen := map[string]bool{}
	var refs []string
	for _, pvm := range pvms {
		for m := range pvm.Marks {
			if om, ok := m.(outputMark); ok && !seen[om.ref.String()] {
				seen[om.ref.String()] = true
				refs = append(refs, om.ref.String())
			}
		}
	}
	sort.Strings(refs)
	return refs
}

func rangeLess(a, b hcl.Range) bool {
	if a.Filename != b.Filename {
		return a.Filename < b.Filename
	}
	return a.Start.Byte < b.Start.Byte
}

func describeKeys(keys []string) string {
	if len(keys) == 0 {
		return "none"
	}
	q := make([]string, len(keys))
	for i, k := range keys {
		q[i] = fmt.Sprintf("[%s]", QuoteString(k))
	}
	if len(q) > 8 {
		q = append(q[:8], fmt.Sprintf("… (%d in all)", len(keys)))
	}
	return strings.Join(q, ", ")
}
