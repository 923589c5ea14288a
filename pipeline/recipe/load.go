package recipe

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"

	"github.com/irflow/irflow/ir/datasets"
	"github.com/irflow/irflow/pipeline/digest"
	"github.com/irflow/irflow/pipeline/stage"
)

// Options change how a recipe is loaded.
type Options struct {
	// Vars are -var "name=value" settings, in command-line order; later
	// ones win. They override VarFiles, which override defaults.
	Vars []string
	// VarFiles are HCL files of `name = value` lines.
	VarFiles []string
	// Hasher computes content digests to check sha256 pins; nil hashes
	// every pinned file afresh.
	Hasher Hasher
	// Fetch turns a remote reference (an input value that starts with one
	// of its parameter's Schemes, e.g. "hf:org/name@rev") into a local
	// directory, downloading it if it may. Nil makes such values an error.
	Fetch func(ref string) (dir string, err error)
	// Dataset makes the files of a catalogued dataset (ir/datasets) local,
	// for collection blocks with `dataset = "NAME"`. Nil makes such blocks
	// an error (names are still checked against the catalog).
	Dataset func(name string) (*datasets.Paths, error)
}

// Hasher returns the content digest of a file or directory (see package
// digest); the cache provides one that remembers digests of unchanged files.
type Hasher interface {
	Digest(path string) (string, error)
}

type plainHasher struct{}

func (plainHasher) Digest(path string) (string, error) { return digest.Path(path) }

// Load parses and evaluates a recipe. The returned Recipe is never nil:
// even when the diagnostics hold errors, its Files are filled in so the
// diagnostics can be printed with source snippets. Its Stages are complete
// only when there are no errors.
func Load(path string, opts Options) (*Recipe, hcl.Diagnostics) {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	r := &Recipe{Path: abs, Dir: filepath.Dir(abs), byAddress: map[string]*Stage{}}
	l := &loader{
		r:             r,
		given:         path,
		opts:          opts,
		parser:        hclparse.NewParser(),
		funcs:         functions(r.Dir),
		vars:          map[string]*variable{},
		varVals:       map[string]cty.Value{},
		locals:        map[string]*hcl.Attribute{},
		localVals:     map[string]cty.Value{},
		inputs:        map[string]map[string]*inputBlock{BlockCollection: {}, BlockFile: {}},
		stageIndex:    map[string]map[string]*stageBlock{},
		placeholders:  map[string]OutputRef{},
		reported:      map[string]bool{},
		fetched:       map[string]string{},
		outputFormats: map[string]string{},
		pathFormats:   map[string]*knownFormat{},
		sniffed:       map[string][]string{},
		datasetPaths:  map[string]*datasets.Paths{},
		unclean:       map[string]bool{},
	}
	if l.opts.Hasher == nil {
		l.opts.Hasher = plainHasher{}
	}
	l.load()
	r.Files = l.parser.Files()
	r.Variables = l.varVals
	return r, dedupe(l.diags)
}

type loader struct {
	r      *Recipe
	given  string // the recipe path as given
	opts   Options
	parser *hclparse.Parser
	funcs  map[string]function.Function
	diags  hcl.Diagnostics

	vars      map[string]*variable
	varVals   map[string]cty.Value
	locals    map[string]*hcl.Attribute
	localVals map[string]cty.Value
	inputs    map[string]map[string]*inputBlock // block type → name → block

	stageBlocks []*stageBlock
	stageIndex  map[string]map[string]*stageBlock // block type → name → block
	// placeholders maps the stand-in string of every stage output to the
	// output it names (see placeholder).
	placeholders map[string]OutputRef
	// frozen holds the top-level names once all definitions are evaluated.
	frozen map[string]cty.Value
	// unclean holds the stage instances whose decoding reported errors:
	// upstream checks skip them rather than pile messages on the first.
	unclean map[string]bool
	// reported remembers missing paths already reported, so a missing
	// collection file is not reported again at every stage using it.
	reported map[string]bool
	// fetched maps remote references to their local directory ("" when
	// fetching failed and was reported).
	fetched map[string]string
	// outputFormats maps "<address>.<output>" to the output's format;
	// pathFormats the paths of collection attributes to the formats their
	// names give; sniffed remembers what other paths' content looked like.
	outputFormats map[string]string
	pathFormats   map[string]*knownFormat
	sniffed       map[string][]string
	// datasetPaths holds resolved datasets by name (nil when resolving
	// failed and was reported).
	datasetPaths map[string]*datasets.Paths
}

func (l *loader) add(d hcl.Diagnostics) { l.diags = append(l.diags, d...) }

func (l *loader) errorf(subject *hcl.Range, summary, format string, args ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  subject,
	})
}

func (l *loader) load() {
	// Parsed under the name the user gave, so messages show that path.
	f, diags := l.parser.ParseHCLFile(l.given)
	l.add(diags)
	if diags.HasErrors() || f == nil {
		return
	}
	content, diags := f.Body.Content(l.topSchema())
	l.add(diags)

	// Variables, locals and inputs first: stage blocks' methods may use
	// variables.
	var stageBlocks, executors []*hcl.Block
	for _, b := range content.Blocks {
		switch b.Type {
		case BlockVariable:
			l.declareVariable(b)
		case BlockLocals:
			l.declareLocals(b)
		case BlockCollection, BlockFile:
			l.declareInput(b)
		case BlockExecutor:
			executors = append(executors, b)
		default:
			stageBlocks = append(stageBlocks, b)
		}
	}
	l.applyVariableValues()
	for _, b := range executors {
		l.declareExecutor(b)
	}
	l.declareDatasets()
	for _, b := range stageBlocks {
		l.declareStage(b)
	}
	l.evaluateDefinitions()
	// Every definition has its final value now: build the names once
	// rather than for each of possibly thousands of instances.
	l.frozen = l.variables()
	for _, sb := range l.stageBlocks {
		l.decodeStage(sb)
	}
	l.checkUpstream()
	l.checkCycles()
}

func (l *loader) topSchema() *hcl.BodySchema {
	s := &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: BlockVariable, LabelNames: []string{"name"}},
		{Type: BlockLocals},
		{Type: BlockCollection, LabelNames: []string{"name"}},
		{Type: BlockFile, LabelNames: []string{"name"}},
		{Type: BlockExecutor, LabelNames: []string{"type"}},
	}}
	for _, b := range stage.Blocks() {
		if isReservedBlock(b) {
			continue
		}
		s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: b, LabelNames: []string{"name"}})
	}
	return s
}

func isReservedBlock(name string) bool {
	switch name {
	case BlockVariable, BlockLocals, BlockCollection, BlockFile, BlockExecutor, BlockResources, "each", "var", "local":
		return true
	}
	return false
}

// checkName reports block labels that cannot be used in references.
func (l *loader) checkName(b *hcl.Block) bool {
	if len(b.Labels) == 0 {
		return false
	}
	if !hclsyntax.ValidIdentifier(b.Labels[0]) {
		l.errorf(b.LabelRanges[0].Ptr(), "Invalid block name",
			"%q is not a valid name: names start with a letter or underscore and may contain letters, digits, underscores and dashes, so that references like %s.NAME can use them.", b.Labels[0], b.Type)
		return false
	}
	return true
}

// ---- stage blocks --------------------------------------------------------

type stageBlock struct {
	block      *hcl.Block
	kind       *stage.Kind
	attrs      hcl.Attributes
	hasForEach bool
	// instances is filled in when for_each has been evaluated; broken
	// blocks (for_each failed) have none and are not decoded.
	instances []instance
	evaluated bool
	broken    bool
	// obj is the block's value in expressions (see stageObject); unknown
	// until for_each is evaluated.
	obj cty.Value
	// resources is the block's resources block, if any.
	resources *hcl.Block
}

type instance struct {
	key    string
	hasKey bool
	value  cty.Value
}

func (l *loader) declareStage(b *hcl.Block) {
	if !l.checkName(b) {
		return
	}
	name := b.Labels[0]
	if l.stageIndex[b.Type] == nil {
		l.stageIndex[b.Type] = map[string]*stageBlock{}
	}
	if prev := l.stageIndex[b.Type][name]; prev != nil {
		l.errorf(b.DefRange.Ptr(), "Duplicate "+b.Type+" block",
			"A %s block named %q is already declared at %s. Names must be unique per block type.",
			b.Type, name, prev.block.DefRange)
		return
	}
	sb := &stageBlock{block: b, obj: cty.DynamicVal}
	l.stageIndex[b.Type][name] = sb

	kind, ok := l.lookupKind(b)
	if !ok {
		sb.broken = true
		return
	}
	sb.kind = kind
	schema := &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: AttrMethod}, {Name: AttrForEach}, {Name: AttrExpect},
	}, Blocks: []hcl.BlockHeaderSchema{{Type: BlockResources}}}
	for _, p := range kind.Params {
		switch p.Name {
		case AttrMethod, AttrForEach, AttrExpect:
			continue // reserved for the engine; a kind cannot take them over
		}
		schema.Attributes = append(schema.Attributes, hcl.AttributeSchema{Name: p.Name, Required: p.Required})
	}
	content, diags := b.Body.Content(schema)
	l.add(diags)
	sb.attrs = content.Attributes
	for _, rb := range content.Blocks {
		if sb.resources != nil {
			l.errorf(rb.DefRange.Ptr(), "Duplicate resources block", "%s.%s already has a resources block at %s.", b.Type, name, sb.resources.DefRange)
			continue
		}
		sb.resources = rb
	}
	_, sb.hasForEach = sb.attrs[AttrForEach]
	l.stageBlocks = append(l.stageBlocks, sb)
}

// lookupKind finds the kind for a block from its method attribute, which
// may use only literals and variables: it decides the block's schema, so
// it is known before anything else in the block is evaluated.
func (l *loader) lookupKind(b *hcl.Block) (*stage.Kind, bool) {
	method := ""
	var methodRange *hcl.Range
	if sb, ok := b.Body.(*hclsyntax.Body); ok {
		if a := sb.Attributes[AttrMethod]; a != nil {
			methodRange = a.Expr.Range().Ptr()
			for _, tr := range a.Expr.Variables() {
				if tr.RootName() != "var" {
					l.errorf(tr.SourceRange().Ptr(), "Invalid method",
						"The method picks the stage implementation, so it may use only literal values and variables (var.NAME), not %s.", tr.RootName())
					return nil, false
				}
			}
			l.checkRefs(a.Expr, refScope{})
			v, diags := a.Expr.Value(l.varContext())
			l.add(diags)
			if diags.HasErrors() {
				return nil, false
			}
			if !v.IsWhollyKnown() {
				return nil, false
			}
			if v.IsNull() || v.Type() != cty.String {
				l.errorf(methodRange, "Invalid method", "The method of a %s block must be a string.", b.Type)
				return nil, false
			}
			method = v.AsString()
		}
	}
	kind, ok := stage.Lookup(b.Type, method)
	if ok {
		return kind, true
	}
	methods := stage.Methods(b.Type)
	subject := methodRange
	if subject == nil {
		subject = b.DefRange.Ptr()
	}
	detail := fmt.Sprintf("There is no %s method %q. Registered methods: %s.", b.Type, method, strings.Join(methods, ", "))
	if method == "" {
		detail = fmt.Sprintf("%s blocks have no default method; set method to one of: %s.", b.Type, strings.Join(methods, ", "))
	} else if s := suggest(method, methods); s != "" {
		detail += fmt.Sprintf(" Did you mean %q?", s)
	}
	l.errorf(subject, "Unknown method", "%s", detail)
	return nil, false
}

// placeholder is the string that stands for a stage output while the
// recipe is evaluated: its path is known only once the stage has run.
// Values carry an outputMark as well, so misuse inside functions and
// templates is detected.
func (l *loader) placeholder(ref OutputRef) cty.Value {
	s := "<irflow output " + ref.String() + ">"
	l.placeholders[s] = ref
	return cty.StringVal(s).Mark(outputMark{ref})
}

type outputMark struct{ ref OutputRef }

// stageObject is the value of `<block>.<name>` in expressions: an object
// of outputs, or for for_each blocks an object of instances by key.
func (l *loader) stageObject(sb *stageBlock) cty.Value {
	if sb.broken || sb.kind == nil {
		return cty.DynamicVal
	}
	name := sb.block.Labels[0]
	outputs := func(inst instance) cty.Value {
		addr := Address(sb.block.Type, name, inst.key, inst.hasKey)
		attrs := map[string]cty.Value{}
		for _, o := range sb.kind.Outputs {
			ref := OutputRef{Address: addr, Output: o.Name}
			attrs[o.Name] = l.placeholder(ref)
			l.outputFormats[ref.String()] = o.Format
		}
		return cty.ObjectVal(attrs)
	}
	if !sb.hasForEach {
		return outputs(instance{})
	}
	byKey := map[string]cty.Value{}
	for _, inst := range sb.instances {
		byKey[inst.key] = outputs(inst)
	}
	return cty.ObjectVal(byKey)
}

// ---- evaluation context ----------------------------------------------------

// varContext is the context of variable-only expressions (method).
func (l *loader) varContext() *hcl.EvalContext {
	return &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(l.varVals)},
		Functions: l.funcs,
	}
}

// context is the full evaluation context; inst adds each.key/each.value.
func (l *loader) context(inst *instance) *hcl.EvalContext {
	base := l.frozen
	if base == nil {
		base = l.variables()
	}
	vars := make(map[string]cty.Value, len(base)+1)
	for k, v := range base {
		vars[k] = v
	}
	if inst != nil && inst.hasKey {
		vars["each"] = cty.ObjectVal(map[string]cty.Value{
			"key":   cty.StringVal(inst.key),
			"value": inst.value,
		})
	}
	return &hcl.EvalContext{Variables: vars, Functions: l.funcs}
}

// variables builds the top-level names of expressions from the current
// state of evaluation.
func (l *loader) variables() map[string]cty.Value {
	vars := map[string]cty.Value{
		"var":   cty.ObjectVal(l.varVals),
		"local": cty.ObjectVal(l.localVals),
	}
	for _, typ := range []string{BlockCollection, BlockFile} {
		objs := map[string]cty.Value{}
		for name, ib := range l.inputs[typ] {
			objs[name] = ib.value
		}
		vars[typ] = cty.ObjectVal(objs)
	}
	for typ, blocks := range l.stageIndex {
		objs := map[string]cty.Value{}
		for name, sb := range blocks {
			objs[name] = sb.obj
		}
		vars[typ] = cty.ObjectVal(objs)
	}
	return vars
}

// ---- missing files -----------------------------------------------------------

// resolvePath makes a recipe path absolute (relative to the recipe's
// directory) and reports it once if it does not exist.
func (l *loader) resolvePath(p string, rng hcl.Range, what string) (string, bool) {
	if p == "" {
		l.errorf(rng.Ptr(), "Empty path", "The path of %s is empty.", what)
		return "", false
	}
	abs := p
	if !filepath.IsAbs(abs) {
		abs = filepath.Join(l.r.Dir, p)
	}
	abs = filepath.Clean(abs)
	info, err := os.Stat(abs)
	if err == nil && !info.IsDir() && !info.Mode().IsRegular() {
		// A device or pipe would never finish hashing.
		if !l.reported[abs] {
			l.reported[abs] = true
			l.errorf(rng.Ptr(), "Not a file or directory", "%s: %s is a %s, not a regular file or a directory.", what, abs, specialKind(info.Mode()))
		}
		return abs, false
	}
	if err != nil {
		if !l.reported[abs] {
			l.reported[abs] = true
			detail := fmt.Sprintf("%s: %s does not exist", what, abs)
			if !os.IsNotExist(err) {
				detail = fmt.Sprintf("%s: %s cannot be read: %s", what, abs, unwrapPathError(err))
			}
			if !filepath.IsAbs(p) {
				detail += fmt.Sprintf(" (relative paths are resolved against the recipe's directory, %s)", l.r.Dir)
			}
			l.errorf(rng.Ptr(), "Missing input file", "%s.", detail)
		}
		return abs, false
	}
	return abs, true
}

// specialKind names a file that is neither regular nor a directory.
func specialKind(m os.FileMode) string {
	switch {
	case m&os.ModeNamedPipe != 0:
		return "named pipe"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// itemRanges returns where each item of an object constructor such as
// { docs = "…" } is written, by key, so messages about one pin or one
// expectation point at it rather than at the whole map.
func itemRanges(expr hcl.Expression, ctx *hcl.EvalContext) (keys, values map[string]hcl.Range) {
	keys, values = map[string]hcl.Range{}, map[string]hcl.Range{}
	obj, ok := expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return
	}
	for _, item := range obj.Items {
		k, diags := item.KeyExpr.Value(ctx)
		if diags.HasErrors() || !k.IsKnown() || k.IsNull() || k.Type() != cty.String {
			continue
		}
		k, _ = k.Unmark()
		keys[k.AsString()] = item.KeyExpr.Range()
		values[k.AsString()] = item.ValueExpr.Range()
	}
	return
}

func rangeOr(m map[string]hcl.Range, key string, def hcl.Range) hcl.Range {
	if r, ok := m[key]; ok {
		return r
	}
	return def
}

// sortedStrings returns a sorted copy.
func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
