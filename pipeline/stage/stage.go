// Package stage is the contract between the pipeline engine and the stage
// kinds. A stage kind (BM25 index, BM25 search, re_rank, evaluate, fit, …)
// describes its recipe block here — parameters, inputs, outputs and an
// implementation version — and does its work in Run. The engine owns
// everything else: decoding, cache keys, locking, atomic commit.
//
// Stage packages import this package and register themselves in init;
// the engine never imports a stage package directly (cmd/irflow does, for
// the side effect), so data flows recipe → plan → exec → stage.
//
// # Declaring a kind
//
// Whatever a kind declares is checked when the recipe loads, so mistakes
// are file:line:col errors from `irflow plan` before anything runs, and
// whatever its results depend on is in the cache key:
//
//   - every Output gets a Format: a registered name such as FormatRun or
//     "index/bm25". A kind writing a new on-disk layout registers it in init
//     (RegisterFormat, Version from the package that writes the layout, a
//     Sniff that recognises it cheaply if it can). Its version enters the
//     key of every stage writing it; readers still check the version of
//     what they open.
//   - every Input and InputList parameter lists the formats it takes in
//     Accepts. Upstream outputs carry their declared format, collection
//     files named docs/corpus, queries/topics and qrels theirs; other paths
//     are sniffed (Format.Sniff) and allowed when nothing is recognised.
//   - values are constrained with Enum (strings, list elements), Min/Max
//     (AtLeast, Above, AtMost, Below) and Integer (numbers), or Check for
//     anything else (return an *ElementError to point at an element or key).
//     Defaults must satisfy them (Validate, called by Register).
//   - Uses names the Components the results depend on besides the kind's
//     own code (stages/components: analysis, tokenizer; libtorch from
//     stages/components/libtorch). Version then only covers the kind's own
//     code.
//
// Run may rely on all of it: it receives only values that passed.
package stage

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"

	"github.com/charmbracelet/log"
)

// Type is the type of a block attribute.
type Type int

const (
	String Type = iota
	Number
	Bool
	StringList
	StringMap // map of string to string, e.g. expect = { "nDCG@10" = ">= 0.6" }
	// Input is a file or directory whose *content* is part of the cache key:
	// a literal path, a pinned collection file, or an upstream output
	// reference such as search.bm25.run.
	Input
	// InputList is a list of Inputs.
	InputList
)

func (t Type) String() string {
	switch t {
	case String:
		return "string"
	case Number:
		return "number"
	case Bool:
		return "bool"
	case StringList:
		return "list(string)"
	case StringMap:
		return "map(string)"
	case Input:
		return "input"
	case InputList:
		return "list(input)"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Param declares one attribute of a stage block.
type Param struct {
	Name     string
	Type     Type
	Required bool
	// Default is used when the attribute is absent (nil: no default).
	// It has the Go type the engine decodes to: string, float64, bool,
	// []string or map[string]string.
	Default any
	// Meta parameters cannot change results (threads, inference batch
	// size, progress, logging) and are left out of the cache key.
	Meta bool
	// Schemes (Input only) are prefixes such as "hf:" that mark a value as
	// a remote reference rather than a path. The engine fetches it into a
	// local directory before planning, hands the stage that directory, and
	// keys the cache on its content like any other input.
	Schemes []string
	Doc     string

	// The declarations below are checked by the recipe loader, so a wrong
	// value is a file:line:col error from `irflow plan` rather than a
	// failure after the upstream stages ran. Run may rely on them.

	// Accepts (Input, InputList) names the formats the parameter takes
	// (FormatDocs, FormatRun, "index/bm25", …; see Format). An upstream
	// output of another format, or a collection file or path known or
	// sniffed to be of another format, is refused. Empty accepts anything.
	Accepts []string
	// Enum (String, and each element of a StringList) lists the allowed
	// values.
	Enum []string
	// Min and Max bound a Number (nil: unbounded); see AtLeast, Above,
	// AtMost, Below.
	Min, Max *Bound
	// Integer requires a Number to be a whole number.
	Integer bool
	// Check validates what the fields above cannot express (a measure's
	// syntax, the numbers inside a map). It gets the decoded value and
	// returns a message-ready error; an *ElementError names the list
	// element or map key at fault, so the loader can point at it.
	Check func(v any) error
}

// Output is one named artifact a stage writes; other blocks reference it
// as <block>.<name>.<output>.
type Output struct {
	Name string
	// Path is relative to the stage's output directory: a file
	// ("run.trec") or a directory ("index/").
	Path string
	// Format names what the output is (a registered Format such as
	// FormatRun or "index/bm25"), so the loader can check it against the
	// Accepts of the parameters it is given to. The format's version is
	// part of the producing stage's cache key: bumping it re-runs every
	// stage that writes the format. "" is unknown (test kinds).
	Format string
	Doc    string
}

// Kind is one registered stage implementation.
type Kind struct {
	// Block is the recipe block type: "index", "search", "re_rank", …
	Block string
	// Method distinguishes implementations that share a block type
	// (index "x" { method = "bm25" }). Every block type has one default
	// method (DefaultMethod) used when the attribute is absent.
	Method string
	// Version is the version of the kind's own code, part of the cache
	// key: bump it whenever that code would change results. Libraries and
	// formats it depends on are not covered by it but by Uses and the
	// outputs' formats.
	Version int
	// Uses names the registered Components (analysis, tokenizer, libtorch,
	// a format the stage reads, …) whose versions the results depend on.
	// Their versions, and those of the outputs' formats, enter the cache
	// key, so a new libtorch or a new analysis version re-runs exactly the
	// stages using it, without hand-bumped kind versions.
	Uses    []string
	Params  []Param
	Outputs []Output
	Doc     string
	Run     func(ctx context.Context, job *Job) error
	// Check, when set, validates combinations of parameters (one of two
	// inputs required, an option that needs another) after each passed its
	// own declarations, so `irflow plan` reports them too. It sees the
	// decoded values, inputs as opaque values: test them with Given. A
	// *ParamError points the message at one parameter.
	Check func(params map[string]any) error
	// CheckUpstream, when set, validates parameters against the stages
	// whose outputs this stage reads (a search's n_probe against its
	// index's n_lists), so `irflow plan` reports what would otherwise
	// fail only once the upstream stage has run. upstream(name) gives the
	// producer of input parameter name; false when the input is a file or
	// not given. It runs after every stage is decoded and only when this
	// stage decoded cleanly. A *ParamError points at one parameter.
	CheckUpstream func(params map[string]any, upstream func(param string) (Upstream, bool)) error
}

// Upstream is what a plan-time check sees of the stage producing one of
// its inputs: its address, kind and decoded parameters (defaults filled).
type Upstream struct {
	Address string
	Kind    *Kind
	Params  map[string]any
}

// Job is one execution of a stage.
type Job struct {
	// Address is "<block>.<name>", for messages.
	Address string
	// Key is the stage's cache key and Recipe the path of the recipe file
	// it came from, for provenance (a fitted model's card names both).
	Key, Recipe string
	// Params holds every declared parameter (defaults filled in), decoded
	// to string, float64, bool, []string or map[string]string. Inputs are
	// absolute paths (string, or []string for InputList).
	Params map[string]any
	// OutDir is where Run writes its outputs. It is a fresh temporary
	// directory; the engine commits it atomically when Run returns nil.
	OutDir string
	// CheckpointDir survives crashes and interruptions of this same stage
	// key, so long stages can resume. The engine deletes it after commit.
	CheckpointDir string
	// Threads is the number of CPU threads the stage may use.
	Threads int
	Log     *log.Logger
	// Progress starts a progress display for long work (a bar on a TTY,
	// periodic log lines otherwise). total < 0 means unknown.
	Progress func(desc string, total int64) Progress

	mu      sync.Mutex
	metrics map[string]float64
}

// Progress reports progress of one piece of long work.
type Progress interface {
	Add(n int64)
	Done()
}

// SetMetric records a named result (e.g. "nDCG@10") of this job; the engine
// writes metrics into the manifest, checks `expect` against them and shows
// them in the run summary.
func (j *Job) SetMetric(name string, v float64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.metrics == nil {
		j.metrics = map[string]float64{}
	}
	j.metrics[name] = v
}

// Metrics returns a copy of the recorded metrics.
func (j *Job) Metrics() map[string]float64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	m := make(map[string]float64, len(j.metrics))
	for k, v := range j.metrics {
		m[k] = v
	}
	return m
}

// String returns a string parameter.
func (j *Job) String(name string) string { s, _ := j.Params[name].(string); return s }

// Float returns a number parameter.
func (j *Job) Float(name string) float64 { f, _ := j.Params[name].(float64); return f }

// Int returns a number parameter as int.
func (j *Job) Int(name string) int { return int(j.Float(name)) }

// Bool returns a bool parameter.
func (j *Job) Bool(name string) bool { b, _ := j.Params[name].(bool); return b }

// Strings returns a list parameter.
func (j *Job) Strings(name string) []string { s, _ := j.Params[name].([]string); return s }

// StringMap returns a map parameter.
func (j *Job) StringMap(name string) map[string]string {
	m, _ := j.Params[name].(map[string]string)
	return m
}

var (
	regMu    sync.RWMutex
	registry = map[string]map[string]*Kind{} // block → method → kind
	defaults = map[string]string{}           // block → default method
)

// Register adds a kind. The first kind registered for a block type is its
// default method unless SetDefault says otherwise. It panics on duplicates
// and on declarations Validate refuses: registration happens in init, and
// either is a programming error. The components and formats a kind names
// must be registered first (import the package that registers them).
func Register(k *Kind) {
	if err := Validate(k); err != nil {
		panic(err.Error())
	}
	regMu.Lock()
	defer regMu.Unlock()
	if registry[k.Block] == nil {
		registry[k.Block] = map[string]*Kind{}
	}
	if _, dup := registry[k.Block][k.Method]; dup {
		panic(fmt.Sprintf("stage: %s/%s registered twice", k.Block, k.Method))
	}
	registry[k.Block][k.Method] = k
	if _, ok := defaults[k.Block]; !ok {
		defaults[k.Block] = k.Method
	}
}

// SetDefault makes method the default for block.
func SetDefault(block, method string) {
	regMu.Lock()
	defer regMu.Unlock()
	defaults[block] = method
}

// Lookup finds the kind for a block type and method ("" = the default).
func Lookup(block, method string) (*Kind, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	if method == "" {
		method = defaults[block]
	}
	k, ok := registry[block][method]
	return k, ok
}

// Blocks lists the registered block types, sorted.
func Blocks() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var b []string
	for k := range registry {
		b = append(b, k)
	}
	sort.Strings(b)
	return b
}

// Methods lists the methods registered for a block type, sorted.
func Methods(block string) []string {
	regMu.RLock()
	defer regMu.RUnlock()
	var m []string
	for k := range registry[block] {
		m = append(m, k)
	}
	sort.Strings(m)
	return m
}

// ParamError is returned by a Kind.Check to name the parameter at fault.
type ParamError struct {
	Param string
	Err   error
}

func (e *ParamError) Error() string { return e.Err.Error() }
func (e *ParamError) Unwrap() error { return e.Err }

// Given reports whether a parameter has a value other than an empty
// string (the default of optional inputs).
func Given(params map[string]any, name string) bool {
	v, ok := params[name]
	if !ok || v == nil {
		return false
	}
	s, isString := v.(string)
	return !isString || s != ""
}

// InputPath is the local path of a decoded input parameter as Check and
// CheckUpstream see it: the loader hands kinds its own input value (a
// struct whose Path is the absolute path, or the fetched directory of an
// "hf:" reference), read here by name so that stage packages need not
// import the loader. "" when there is none.
func InputPath(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		rv = rv.Elem()
	}
	if rv.Kind() == reflect.Struct {
		if f := rv.FieldByName("Path"); f.IsValid() && f.Kind() == reflect.String {
			return f.String()
		}
	}
	return ""
}
