// Package recipe decodes an irflow recipe (HCL) into stage instances with
// fully evaluated parameters and explicit references between them.
//
// A recipe has four reserved block types — variable, locals, collection and
// file — and one block type per registered stage kind (pipeline/stage).
// References `<block>.<name>.<output>` between stage blocks are the only
// way order is declared; the loader turns them into OutputRefs that the
// planner makes DAG edges of. Every problem is reported as an hcl.Diagnostic
// with the file, line and column it comes from.
package recipe

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/irflow/irflow/pipeline/stage"
)

// Reserved top-level block types.
const (
	BlockVariable   = "variable"
	BlockLocals     = "locals"
	BlockCollection = "collection"
	BlockFile       = "file"
)

// Attributes every stage block may have besides its kind's parameters;
// the engine, not the kind, interprets them.
const (
	AttrMethod  = "method"
	AttrForEach = "for_each"
	AttrExpect  = "expect"
)

// Recipe is a decoded recipe.
type Recipe struct {
	// Path is the absolute path of the recipe file; Dir its directory,
	// against which relative paths in the recipe are resolved.
	Path, Dir string
	// Files holds every parsed file (the recipe and -var-files) for
	// printing diagnostics with source snippets.
	Files map[string]*hcl.File
	// Variables holds the effective value of every declared variable.
	Variables map[string]cty.Value
	// Inputs lists the files declared in collection and file blocks.
	Inputs []*InputFile
	// Stages lists every stage instance in source order; instances of a
	// for_each block are sorted by key.
	Stages []*Stage
	// Executor is the executor block (nil: none); it never enters keys.
	Executor *Executor

	byAddress map[string]*Stage
}

// Stage looks up an instance by address (e.g. `search.bm25["k1=0.9"]`).
func (r *Recipe) Stage(address string) *Stage { return r.byAddress[address] }

// Stage is one instance of a stage block.
type Stage struct {
	// Address is `<block>.<name>` or `<block>.<name>["<key>"]`.
	Address string
	Block   string
	Name    string
	// Key is the for_each key; HasKey tells "" from no for_each.
	Key    string
	HasKey bool
	Kind   *stage.Kind
	// Params holds every declared parameter that has a value (defaults
	// filled in): string, float64, bool, []string, map[string]string,
	// Input (for stage.Input) or []Input (for stage.InputList).
	Params map[string]any
	// ParamRanges tells where each parameter given in the recipe is.
	ParamRanges map[string]hcl.Range
	Expect      []Expectation
	// Resources is the stage's resources block (nil: none): what a
	// cluster launcher asks for. It never enters keys.
	Resources *Resources
	// DeclRange is the block header, for messages about the whole stage.
	DeclRange hcl.Range
}

// Inputs returns every input parameter value of the stage, sorted by
// parameter name and list position.
func (s *Stage) Inputs() []NamedInput {
	var out []NamedInput
	for _, name := range sortedKeys(s.Params) {
		switch v := s.Params[name].(type) {
		case Input:
			out = append(out, NamedInput{Name: name, Input: v})
		case []Input:
			for i, in := range v {
				out = append(out, NamedInput{Name: fmt.Sprintf("%s[%d]", name, i), Input: in})
			}
		}
	}
	return out
}

// Upstream returns the addresses of the stages this one reads outputs of,
// sorted and without duplicates.
func (s *Stage) Upstream() []string {
	seen := map[string]bool{}
	var out []string
	for _, in := range s.Inputs() {
		if in.From != nil && !seen[in.From.Address] {
			seen[in.From.Address] = true
			out = append(out, in.From.Address)
		}
	}
	sort.Strings(out)
	return out
}

// NamedInput is an input with the parameter it belongs to ("runs[1]" for
// the second element of a list).
type NamedInput struct {
	Name string
	Input
}

// Input is the value of an input parameter: either an external file or
// directory (Path) or an output of another stage (From).
type Input struct {
	// Path is the absolute path of an external input; empty for From.
	Path string
	// From names an upstream output; nil for external inputs.
	From *OutputRef
	// Ref is the remote reference Path was fetched from ("hf:org/name"),
	// as written in the recipe; empty for paths and outputs.
	Ref string
	// Range is where the value is written in the recipe.
	Range hcl.Range
}

// OutputRef names one output of a stage instance.
type OutputRef struct {
	Address string // stage instance address
	Output  string
}

func (r OutputRef) String() string { return r.Address + "." + r.Output }

// InputFile is one file or directory declared in a collection or file
// block, e.g. collection.scifact.docs.
type InputFile struct {
	// Address is how the recipe refers to it: collection.<name>.<attr>
	// or file.<name>.path.
	Address string
	Path    string
	Range   hcl.Range
	// Pin is the expected sha256 ("" when not pinned); PinRange is where
	// the pin is written.
	Pin      string
	PinRange hcl.Range
	// Dataset names the catalogued dataset the file comes from (see
	// ir/datasets); its Pin is then the catalog's sha256.
	Dataset string
}

// Address formats a stage instance address. Keys are quoted the way HCL
// writes strings so the address can be pasted back into a recipe.
func Address(block, name string, key string, hasKey bool) string {
	if !hasKey {
		return block + "." + name
	}
	return block + "." + name + "[" + QuoteString(key) + "]"
}

// QuoteString quotes s as an HCL string literal.
func QuoteString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, r)
		case (r == '$' || r == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteRune(r) // "${" and "%{" start templates; doubling escapes them
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
