package recipe

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// variable is a declared `variable "name" { … }` block.
type variable struct {
	name string
	decl hcl.Range
	// typ is the declared type, or the default's type when no type is
	// declared (DynamicPseudoType when neither is given).
	typ          cty.Type
	explicitType bool
	typeRange    hcl.Range
	// parseCLI: -var values are HCL expressions even though typ is
	// DynamicPseudoType (untyped variable with a list or map default).
	parseCLI    bool
	def         cty.Value
	hasDefault  bool // without a default the variable is required
	description string
}

var variableSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "default"}, {Name: "type"}, {Name: "description"},
}}

func (l *loader) declareVariable(b *hcl.Block) {
	if !l.checkName(b) {
		return
	}
	name := b.Labels[0]
	if prev := l.vars[name]; prev != nil {
		l.errorf(b.DefRange.Ptr(), "Duplicate variable declaration",
			"A variable named %q is already declared at %s.", name, prev.decl)
		return
	}
	v := &variable{name: name, decl: b.DefRange, typ: cty.DynamicPseudoType}
	l.vars[name] = v
	l.varVals[name] = cty.DynamicVal
	content, diags := b.Body.Content(variableSchema)
	l.add(diags)
	if a := content.Attributes["type"]; a != nil {
		ty, diags := typeexpr.TypeConstraint(a.Expr)
		l.add(diags)
		if !diags.HasErrors() {
			v.typ, v.explicitType, v.typeRange = ty, true, a.Expr.Range()
		}
	}
	if a := content.Attributes["description"]; a != nil {
		d, diags := a.Expr.Value(nil)
		l.add(diags)
		if !diags.HasErrors() && d.Type() == cty.String && !d.IsNull() {
			v.description = d.AsString()
		}
	}
	if a := content.Attributes["default"]; a != nil {
		def, diags := a.Expr.Value(&hcl.EvalContext{Functions: l.funcs})
		l.add(diags)
		if diags.HasErrors() {
			return
		}
		if v.explicitType {
			conv, err := convert.Convert(def, v.typ)
			if err != nil {
				l.errorf(a.Expr.Range().Ptr(), "Invalid default value for variable",
					"The default of variable %q does not match its type %s: %s.", name, typeexpr.TypeString(v.typ), err)
				return
			}
			def = conv
		} else if !def.IsNull() && def.Type().IsPrimitiveType() {
			// An untyped variable with a number or bool default takes
			// values of that type; with a list or map default, any value.
			v.typ = def.Type()
		} else if !def.IsNull() {
			v.parseCLI = true
		}
		v.def, v.hasDefault = def, true
	}
}

// applyVariableValues settles every variable: default, then -var-file
// values, then -var values.
func (l *loader) applyVariableValues() {
	set := map[string]bool{}   // has a value
	given := map[string]bool{} // a value was given, valid or not
	for name, v := range l.vars {
		if v.hasDefault {
			l.varVals[name] = v.def
			set[name] = true
		}
	}
	for _, path := range l.opts.VarFiles {
		f, diags := l.parser.ParseHCLFile(path)
		l.add(diags)
		if diags.HasErrors() || f == nil {
			continue
		}
		attrs, diags := f.Body.JustAttributes()
		l.add(diags)
		for _, name := range sortedKeys(attrs) {
			a := attrs[name]
			v := l.vars[name]
			if v == nil {
				l.errorf(a.NameRange.Ptr(), "Undeclared variable",
					"The variable file sets %q, but the recipe declares no such variable.%s", name, l.suggestVar(name))
				continue
			}
			given[name] = true
			val, diags := a.Expr.Value(&hcl.EvalContext{Functions: l.funcs})
			l.add(diags)
			if diags.HasErrors() {
				continue
			}
			if conv, ok := l.convertVar(v, val, a.Expr.Range(), "The value in "+a.NameRange.Filename); ok {
				l.varVals[name] = conv
				set[name] = true
			}
		}
	}
	for _, opt := range l.opts.Vars {
		name, raw, ok := strings.Cut(opt, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			l.errorf(nil, "Invalid -var option",
				"-var %q: expected name=value, e.g. -var k=1000.", opt)
			continue
		}
		v := l.vars[name]
		if v == nil {
			l.errorf(nil, "Value for undeclared variable",
				"-var %s: the recipe %s declares no variable %q.%s", opt, l.r.Path, name, l.suggestVar(name))
			continue
		}
		given[name] = true
		val, ok := l.parseCLIValue(v, raw, opt)
		if !ok {
			continue
		}
		if conv, ok := l.convertVar(v, val, v.subject(), "-var "+opt); ok {
			l.varVals[name] = conv
			set[name] = true
		}
	}
	for _, name := range sortedKeys(l.vars) {
		if !set[name] && !given[name] {
			l.errorf(l.vars[name].decl.Ptr(), "No value for required variable",
				"Variable %q has no default; set it with -var %s=VALUE or in a -var-file.", name, name)
		}
	}
}

// subject is where messages about a variable's value point: its type
// when declared, else its block header.
func (v *variable) subject() hcl.Range {
	if v.explicitType {
		return v.typeRange
	}
	return v.decl
}

// parseCLIValue turns a -var value into a cty value. String variables (and
// untyped ones without a non-string default) take the raw text, as in
// Terraform; others parse it as an HCL expression, e.g. 1000 or [0.9, 1.2].
func (l *loader) parseCLIValue(v *variable, raw, opt string) (cty.Value, bool) {
	if v.typ == cty.String || (v.typ == cty.DynamicPseudoType && !v.parseCLI) {
		return cty.StringVal(raw), true
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), "<value for var."+v.name+">", hcl.InitialPos)
	if !diags.HasErrors() {
		if _, d := hcl.AbsTraversalForExpr(expr); !d.HasErrors() {
			// A bare word such as abc: HCL would say "Variables may not be
			// used here", which misleads on a command line.
			l.errorf(v.subject().Ptr(), "Invalid value for variable",
				"-var %s: %q is not a valid %s value.", opt, raw, typeexpr.TypeString(v.typ))
			return cty.NilVal, false
		}
		var val cty.Value
		val, diags = expr.Value(&hcl.EvalContext{Functions: l.funcs})
		if !diags.HasErrors() {
			return val, true
		}
	}
	l.errorf(v.subject().Ptr(), "Invalid value for variable",
		"-var %s: %q is not a valid %s value: %s.", opt, raw, typeexpr.TypeString(v.typ), firstDetail(diags))
	return cty.NilVal, false
}

func (l *loader) convertVar(v *variable, val cty.Value, subject hcl.Range, source string) (cty.Value, bool) {
	if v.typ == cty.DynamicPseudoType {
		return val, true
	}
	conv, err := convert.Convert(val, v.typ)
	if err != nil {
		l.errorf(subject.Ptr(), "Invalid value for variable",
			"%s: variable %q is of type %s: %s.", source, v.name, typeexpr.TypeString(v.typ), err)
		return cty.NilVal, false
	}
	return conv, true
}

func (l *loader) suggestVar(name string) string {
	if s := suggest(name, sortedKeys(l.vars)); s != "" {
		return fmt.Sprintf(" Did you mean %q?", s)
	}
	return ""
}

func firstDetail(diags hcl.Diagnostics) string {
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			if d.Detail != "" {
				return strings.TrimSuffix(d.Detail, ".")
			}
			return d.Summary
		}
	}
	return "invalid value"
}
