package recipe

import (
	"fmt"
	"strings"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/irflow/irflow/pipeline/stage"
)

// refScope says where an expression is, which decides what it may use.
type refScope struct {
	stage     *stageBlock // the stage block the expression belongs to
	inForEach bool        // the expression is that block's for_each
}

// checkRefs validates every reference in expr before it is evaluated, so
// mistakes get messages naming what exists ("did you mean …") rather than
// HCL's generic ones. It records and returns the diagnostics.
func (l *loader) checkRefs(expr hcl.Expression, scope refScope) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, tr := range expr.Variables() {
		diags = append(diags, l.checkTraversal(tr, scope)...)
	}
	diags = append(diags, l.checkIndexedOutputs(expr)...)
	l.add(diags)
	return diags
}

func diag(rng hcl.Range, summary, format string, args ...any) hcl.Diagnostics {
	return hcl.Diagnostics{{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  rng.Ptr(),
	}}
}

// attrAt returns the attribute name at step i of a traversal.
func attrAt(tr hcl.Traversal, i int) (string, hcl.Range, bool) {
	if i >= len(tr) {
		return "", hcl.Range{}, false
	}
	a, ok := tr[i].(hcl.TraverseAttr)
	if !ok {
		return "", tr[i].SourceRange(), false
	}
	return a.Name, a.SrcRange, true
}

func (l *loader) checkTraversal(tr hcl.Traversal, scope refScope) hcl.Diagnostics {
	root := tr.RootName()
	rootRange := tr[0].SourceRange()
	switch root {
	case "var", "local":
		name, rng, ok := attrAt(tr, 1)
		if !ok {
			return diag(tr.SourceRange(), "Invalid reference", "A reference to a %s is written %s.NAME.", map[string]string{"var": "variable", "local": "local value"}[root], root)
		}
		var names []string
		if root == "var" {
			if l.vars[name] != nil {
				return nil
			}
			names = sortedKeys(l.vars)
		} else {
			if l.locals[name] != nil {
				return nil
			}
			names = sortedKeys(l.locals)
		}
		what := map[string]string{"var": "Reference to undeclared variable", "local": "Reference to undeclared local value"}[root]
		detail := fmt.Sprintf("No %s named %q is declared.", map[string]string{"var": "variable", "local": "local value"}[root], name)
		if s := suggest(name, names); s != "" {
			detail += fmt.Sprintf(" Did you mean %s.%s?", root, s)
		} else if root == "var" {
			detail += fmt.Sprintf(" Declare it with variable %q { default = … }.", name)
		}
		return diag(rng, what, "%s", detail)
	case "each":
		if scope.inForEach {
			return diag(rootRange, "Invalid reference", "each cannot be used in for_each itself: for_each decides what each.key and each.value are.")
		}
		if scope.stage == nil || !scope.stage.hasForEach {
			return diag(rootRange, "Invalid reference", "each.key and each.value are available only inside a stage block with for_each.")
		}
		name, rng, ok := attrAt(tr, 1)
		if !ok || (name != "key" && name != "value") {
			if !ok {
				rng = tr.SourceRange()
			}
			return diag(rng, "Invalid reference", "each has two attributes: each.key and each.value.")
		}
		return nil
	case BlockCollection, BlockFile:
		name, rng, ok := attrAt(tr, 1)
		if !ok {
			return diag(tr.SourceRange(), "Invalid reference", "A reference to a %s is written %s.NAME.%s.", root, root, map[string]string{BlockCollection: "FILE", BlockFile: "path"}[root])
		}
		ib := l.inputs[root][name]
		if ib == nil {
			detail := fmt.Sprintf("No %s block named %q is declared.", root, name)
			if s := suggest(name, sortedKeys(l.inputs[root])); s != "" {
				detail += fmt.Sprintf(" Did you mean %s.%s?", root, s)
			}
			return diag(rng, "Reference to undeclared "+root, "%s", detail)
		}
		field, frng, ok := attrAt(tr, 2)
		if !ok {
			return nil
		}
		for _, f := range ib.files {
			if f == field {
				return ib.dataset.checkRun(tr, root, name, field)
			}
		}
		detail := fmt.Sprintf("%s.%s has no file %q; its files are: %s.", root, name, field, strings.Join(ib.files, ", "))
		if s := suggest(field, ib.files); s != "" {
			detail += fmt.Sprintf(" Did you mean %s.%s.%s?", root, name, s)
		}
		return diag(frng, "Unsupported attribute", "%s", detail)
	}
	if l.stageIndex[root] != nil || len(stage.Methods(root)) > 0 {
		return l.checkStageTraversal(tr)
	}
	roots := []string{"var", "local", "each", BlockCollection, BlockFile}
	for typ := range l.stageIndex {
		roots = append(roots, typ)
	}
	detail := fmt.Sprintf("There is no %q in this recipe. References start with var, local, each, collection, file or a stage block type (%s).", root, strings.Join(stage.Blocks(), ", "))
	if s := suggest(root, append(roots, stage.Blocks()...)); s != "" {
		detail += fmt.Sprintf(" Did you mean %q?", s)
	}
	return diag(rootRange, "Unknown reference", "%s", detail)
}

func (l *loader) checkStageTraversal(tr hcl.Traversal) hcl.Diagnostics {
	block := tr.RootName()
	name, rng, ok := attrAt(tr, 1)
	if !ok {
		return diag(tr.SourceRange(), "Invalid reference", "A reference to a %s stage is written %s.NAME.OUTPUT.", block, block)
	}
	sb := l.stageIndex[block][name]
	if sb == nil {
		detail := fmt.Sprintf("No %s block named %q is declared.", block, name)
		if s := suggest(name, sortedKeys(l.stageIndex[block])); s != "" {
			detail += fmt.Sprintf(" Did you mean %s.%s?", block, s)
		} else {
			for _, other := range sortedKeys(l.stageIndex) {
				if l.stageIndex[other][name] != nil {
					detail += fmt.Sprintf(" Did you mean %s.%s?", other, name)
					break
				}
			}
		}
		return diag(rng, "Reference to undeclared stage", "%s", detail)
	}
	if sb.kind == nil {
		return nil // the block itself is already reported
	}
	rest := tr[2:]
	if sb.hasForEach {
		if len(rest) == 0 {
			return nil
		}
		switch step := rest[0].(type) {
		case hcl.TraverseIndex:
			if d := l.checkInstanceKey(sb, step.Key, step.SrcRange); d != nil {
				return d
			}
			rest = rest[1:]
		case hcl.TraverseAttr:
			return diag(step.SrcRange, "Missing instance key",
				"%s.%s uses for_each, so a reference must pick one instance, e.g. %s.%s[each.key].%s or %s.%s[\"KEY\"].%s.",
				block, name, block, name, step.Name, block, name, step.Name)
		}
	} else if len(rest) > 0 {
		if idx, ok := rest[0].(hcl.TraverseIndex); ok {
			return diag(idx.SrcRange, "Unexpected instance key",
				"%s.%s has no for_each, so it has no instances to pick from: write %s.%s.OUTPUT.", block, name, block, name)
		}
	}
	if len(rest) == 0 {
		return nil
	}
	if a, ok := rest[0].(hcl.TraverseAttr); ok {
		return l.checkOutputName(sb, a.Name, a.SrcRange)
	}
	return nil
}

func (l *loader) checkInstanceKey(sb *stageBlock, key cty.Value, rng hcl.Range) hcl.Diagnostics {
	if sb.broken || !sb.evaluated || !key.IsKnown() || key.IsNull() {
		return nil
	}
	s, err := convert.Convert(key, cty.String)
	if err != nil {
		return diag(rng, "Invalid instance key", "Instance keys are strings.")
	}
	var keys []string
	for _, inst := range sb.instances {
		if inst.key == s.AsString() {
			return nil
		}
		keys = append(keys, inst.key)
	}
	detail := fmt.Sprintf("%s.%s has no instance [%s]; its instances are %s.",
		sb.block.Type, sb.block.Labels[0], QuoteString(s.AsString()), describeKeys(keys))
	if sug := suggest(s.AsString(), keys); sug != "" {
		detail += fmt.Sprintf(" Did you mean [%s]?", QuoteString(sug))
	}
	return diag(rng, "Reference to undeclared instance", "%s", detail)
}

func (l *loader) checkOutputName(sb *stageBlock, output string, rng hcl.Range) hcl.Diagnostics {
	var names []string
	for _, o := range sb.kind.Outputs {
		if o.Name == output {
			return nil
		}
		names = append(names, o.Name)
	}
	detail := fmt.Sprintf("A %s stage (method %q) has no output %q; its outputs are: %s.",
		sb.block.Type, sb.kind.Method, output, strings.Join(names, ", "))
	if len(names) == 0 {
		detail = fmt.Sprintf("A %s stage (method %q) has no outputs to refer to.", sb.block.Type, sb.kind.Method)
	}
	if s := suggest(output, names); s != "" {
		detail += fmt.Sprintf(" Did you mean %q?", s)
	}
	return diag(rng, "Unsupported output", "%s", detail)
}

// checkIndexedOutputs checks output names after a computed instance key,
// as in search.bm25[each.key].run, which Variables() reports only up to
// the key.
func (l *loader) checkIndexedOutputs(expr hcl.Expression) hcl.Diagnostics {
	node, ok := expr.(hclsyntax.Node)
	if !ok {
		return nil
	}
	var diags hcl.Diagnostics
	hclsyntax.VisitAll(node, func(n hclsyntax.Node) hcl.Diagnostics {
		rel, ok := n.(*hclsyntax.RelativeTraversalExpr)
		if !ok || len(rel.Traversal) == 0 {
			return nil
		}
		idx, ok := rel.Source.(*hclsyntax.IndexExpr)
		if !ok {
			return nil
		}
		src, ok := idx.Collection.(*hclsyntax.ScopeTraversalExpr)
		if !ok || len(src.Traversal) != 2 {
			return nil
		}
		name, _, ok := attrAt(src.Traversal, 1)
		if !ok {
			return nil
		}
		sb := l.stageIndex[src.Traversal.RootName()][name]
		if sb == nil || sb.kind == nil || !sb.hasForEach {
			return nil
		}
		if a, ok := rel.Traversal[0].(hcl.TraverseAttr); ok {
			diags = append(diags, l.checkOutputName(sb, a.Name, a.SrcRange)...)
		}
		return nil
	})
	return diags
}

// suggest returns the candidate closest to name, if it is close enough to
// be a likely typo.
func suggest(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := levenshtein.Distance(name, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}
