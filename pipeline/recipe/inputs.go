package recipe

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/irflow/irflow/pipeline/digest"
)

// attrSHA256 holds pins: a map by file in collection blocks, a string in
// file blocks.
const attrSHA256 = "sha256"

// inputBlock is a collection or file block: named external files.
type inputBlock struct {
	block *hcl.Block
	attrs hcl.Attributes
	// files are the attributes that are paths, in source order.
	files []string
	// value is the block's value in expressions: an object of absolute
	// paths by file name; unknown until evaluated.
	value cty.Value
	// dataset is set for a collection with a `dataset` attribute; its
	// roles (docs, corpus, queries, qrels, runs) are among files.
	dataset *datasetSource
}

var fileSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "path", Required: true}, {Name: attrSHA256},
}}

func (l *loader) declareInput(b *hcl.Block) {
	if !l.checkName(b) {
		return
	}
	name := b.Labels[0]
	if prev := l.inputs[b.Type][name]; prev != nil {
		l.errorf(b.DefRange.Ptr(), "Duplicate "+b.Type+" block",
			"A %s block named %q is already declared at %s.", b.Type, name, prev.block.DefRange)
		return
	}
	ib := &inputBlock{block: b, value: cty.DynamicVal}
	l.inputs[b.Type][name] = ib
	if b.Type == BlockFile {
		content, diags := b.Body.Content(fileSchema)
		l.add(diags)
		ib.attrs = content.Attributes
		if ib.attrs["path"] != nil {
			ib.files = []string{"path"}
		}
		return
	}
	attrs, diags := b.Body.JustAttributes()
	l.add(diags)
	ib.attrs = attrs
	for name := range attrs {
		if name != attrSHA256 && name != attrDataset {
			ib.files = append(ib.files, name)
		}
	}
	sort.Slice(ib.files, func(i, j int) bool {
		return attrs[ib.files[i]].Range.Start.Byte < attrs[ib.files[j]].Range.Start.Byte
	})
	if len(ib.files) == 0 && !diags.HasErrors() && attrs[attrDataset] == nil {
		l.errorf(b.DefRange.Ptr(), "Empty collection",
			"Collection %q names no files; list them as attributes, e.g. qrels = \"../data/qrels.txt\".", name)
	}
}

// evalInput resolves the paths of a collection or file block, checks that
// they exist and that pinned ones have the pinned content.
func (l *loader) evalInput(ib *inputBlock) {
	ctx := l.context(nil)
	typ, name := ib.block.Type, ib.block.Labels[0]
	vals := map[string]cty.Value{}
	files := map[string]*InputFile{}
	exists := map[string]bool{}
	for _, field := range ib.files {
		vals[field] = cty.DynamicVal
		if ib.dataset.has(field) {
			continue // evalDataset's
		}
		a := ib.attrs[field]
		address := typ + "." + name + "." + field
		if l.checkRefs(a.Expr, refScope{}).HasErrors() {
			continue
		}
		v, diags := a.Expr.Value(ctx)
		l.add(diags)
		if diags.HasErrors() || !v.IsWhollyKnown() {
			continue
		}
		if refs := outputRefs(v); len(refs) > 0 {
			l.errorf(a.Expr.Range().Ptr(), "Stage output in a "+typ+" block",
				"%s blocks name external files; %s is a stage output, which goes directly into a stage's input attribute.", typ, refs[0])
			continue
		}
		s, err := convert.Convert(v, cty.String)
		if err != nil || s.IsNull() {
			l.errorf(a.Expr.Range().Ptr(), "Incorrect attribute value type",
				"The path of %s must be a string.", address)
			continue
		}
		abs, ok := l.resolvePath(s.AsString(), a.Expr.Range(), address)
		if abs == "" {
			continue
		}
		vals[field] = cty.StringVal(abs)
		l.noteCollectionFormat(typ, field, address, abs)
		f := &InputFile{Address: address, Path: abs, Range: a.Expr.Range()}
		files[field], exists[field] = f, ok
		l.r.Inputs = append(l.r.Inputs, f)
	}
	// Pins first: a pin of a dataset's file is an error that leaves the
	// dataset unresolved.
	pins := l.decodePins(ib, files, ctx)
	l.evalDataset(ib, vals)
	ib.value = cty.ObjectVal(vals)
	for _, field := range ib.files {
		f := files[field]
		if f == nil || !exists[field] || pins[field] == "" {
			continue
		}
		got, err := l.opts.Hasher.Digest(f.Path)
		if err != nil {
			l.errorf(f.Range.Ptr(), "Cannot read input", "%s: %s.", f.Address, err)
			continue
		}
		if got != f.Pin {
			l.errorf(f.PinRange.Ptr(), "Input does not match its pin",
				"%s (%s) has sha256 %s, but the recipe pins %s: the file changed, or the pin is wrong.",
				f.Address, f.Path, got, f.Pin)
		}
	}
}

// decodePins reads a block's sha256 attribute and records each pin on its
// file; it returns the valid pins by file name.
func (l *loader) decodePins(ib *inputBlock, files map[string]*InputFile, ctx *hcl.EvalContext) map[string]string {
	pins := map[string]string{}
	a := ib.attrs[attrSHA256]
	if a == nil {
		return pins
	}
	typ, name := ib.block.Type, ib.block.Labels[0]
	if l.checkRefs(a.Expr, refScope{}).HasErrors() {
		return pins
	}
	v, diags := a.Expr.Value(ctx)
	l.add(diags)
	if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
		return pins
	}
	v, _ = v.UnmarkDeep()
	raw := map[string]string{}
	valueRanges := map[string]hcl.Range{}
	keyRanges := map[string]hcl.Range{}
	if typ == BlockFile {
		s, err := convert.Convert(v, cty.String)
		if err != nil || s.IsNull() {
			l.errorf(a.Expr.Range().Ptr(), "Incorrect attribute value type",
				"The sha256 of a file block is a string of 64 hex digits.")
			return pins
		}
		raw["path"] = s.AsString()
		valueRanges["path"] = a.Expr.Range()
	} else {
		m, err := convert.Convert(v, cty.Map(cty.String))
		if err != nil {
			l.errorf(a.Expr.Range().Ptr(), "Incorrect attribute value type",
				"The sha256 of a collection is a map from file name to its sha256, e.g. sha256 = { qrels = \"…\" }.")
			return pins
		}
		keyRanges, valueRanges = itemRanges(a.Expr, ctx)
		for k, pv := range m.AsValueMap() {
			if pv.IsNull() {
				continue
			}
			raw[k] = pv.AsString()
		}
	}
	for _, field := range sortedKeys(raw) {
		vr := rangeOr(valueRanges, field, a.Expr.Range())
		known := false
		for _, f := range ib.files {
			known = known || f == field
		}
		if known && ib.dataset.has(field) {
			l.errorf(rangeOr(keyRanges, field, a.Expr.Range()).Ptr(), "Pin of a dataset file",
				"%s.%s.%s comes from dataset %q, which the catalog pins already; remove this pin.", typ, name, field, ib.dataset.name)
			ib.dataset.broken = true
			continue
		}
		if !known {
			detail := fmt.Sprintf("%s %q has no file %q to pin; its files are: %s.", typ, name, field, strings.Join(ib.files, ", "))
			if s := suggest(field, ib.files); s != "" {
				detail += fmt.Sprintf(" Did you mean %q?", s)
			}
			l.errorf(rangeOr(keyRanges, field, a.Expr.Range()).Ptr(), "Pin of an unknown file", "%s", detail)
			continue
		}
		pin := strings.ToLower(strings.TrimSpace(raw[field]))
		if !digest.Valid(pin) {
			l.errorf(vr.Ptr(), "Invalid sha256 pin",
				"The pin of %s.%s.%s must be 64 hex digits (as printed by sha256sum), not %q.", typ, name, field, raw[field])
			continue
		}
		pins[field] = pin
		if f := files[field]; f != nil {
			f.Pin, f.PinRange = pin, vr
		}
	}
	return pins
}
