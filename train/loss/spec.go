// Package loss computes fit's training losses on libtorch tensors: Lightning
// IR 0.0.6's loss functions (lightning_ir/loss/*.py) and xpmir's listwise
// distillation losses, each configured by a [Spec] and summed with weights
// by [Sum]. Specs, validation and parameter tables are pure Go, so the
// recipe layer can check a recipe without libtorch; [Loss.Compute] runs on a
// *torch.Scope.
//
// Every loss is computed in float64 whatever the inputs' dtype (the score
// matrices are tiny next to the model, and float64 keeps sums of many terms
// within 1e-6 of the reference); the result is a float64 0-dim tensor and
// backward hands the inputs gradients in their own dtype.
package loss

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/agext/levenshtein"
)

// Spec configures one loss of a recipe.
type Spec struct {
	// Name is Lightning IR's class name ("InfoNCE", "FLOPSRegularization",
	// …) or one of xpmir's "ListwiseSoftmaxCrossEntropy", "DistillRankNet",
	// "ADR-MSE". See [Names].
	Name string
	// Weight multiplies the loss in [Sum]. Zero means the default 1 (leave a
	// loss out rather than weigh it 0; a schedule may still Set("weight", 0)).
	Weight float64
	// Params holds numeric parameters by Lightning IR's argument names
	// (temperature, margin, query_weight, max_num_neg_samples, …).
	Params map[string]float64
	// Options holds string and boolean parameters (discount,
	// pos_sampling_technique, scale_gains = "true"/"false", …).
	Options map[string]string
}

// Kind is a parameter's type, which also says where a Spec carries it:
// Number and Integer in Params, Bool and Choice in Options.
type Kind int

const (
	Number  Kind = iota // any finite float within the parameter's range
	Integer             // a whole number (counts)
	Bool                // "true" or "false"
	Choice              // one of Param.Choices
)

func (k Kind) String() string {
	return [...]string{"number", "integer", "bool", "choice"}[k]
}

// Param describes one parameter of a loss.
type Param struct {
	Name string
	Kind Kind
	// Default is the default of a Number or Integer, DefaultOption that of a
	// Bool or Choice. HasDefault is false for a parameter that is required
	// (Required) or whose absence means Lightning IR's None (e.g.
	// max_num_neg_samples: keep every negative).
	Default       float64
	DefaultOption string
	HasDefault    bool
	Required      bool
	Choices       []string
	// Min is the smallest allowed value of a Number or Integer;
	// MinExclusive makes it a strict bound.
	Min          float64
	MinExclusive bool
	Doc          string
}

// kind of input a loss needs.
type family int

const (
	scoring    family = iota // scores and targets of each query's docs
	inBatch                  // in-batch scores (bi-encoders)
	embeddings               // query and doc embeddings (bi-encoders)
)

type def struct {
	family family
	params []Param
}

func temperature(doc string) Param {
	return Param{Name: "temperature", Kind: Number, Default: 1, HasDefault: true, MinExclusive: true, Doc: doc}
}

var regularization = []Param{
	{Name: "query_weight", Kind: Number, Default: 1e-4, HasDefault: true, Doc: "weight of the query embeddings' term"},
	{Name: "doc_weight", Kind: Number, Default: 1e-4, HasDefault: true, Doc: "weight of the doc embeddings' term"},
}

var maxNumNegSamples = Param{Name: "max_num_neg_samples", Kind: Integer, Min: 1,
	Doc: "keep at most this many negatives per query, drawn at random (absent: keep all)"}

var defs = map[string]def{
	"RankNet": {scoring, []Param{temperature("scores are multiplied (not divided) by it, as in Lightning IR")}},
	"ConstantMarginMSE": {scoring, []Param{
		{Name: "margin", Kind: Number, Default: 1, HasDefault: true, Min: math.Inf(-1), Doc: "target margin of every pair"}}},
	"SupervisedMarginMSE": {scoring, nil},
	"KLDivergence":        {scoring, nil},
	"InfoNCE":             {scoring, nil},
	"PearsonCorrelation":  {scoring, nil},
	"ApproxNDCG": {scoring, []Param{temperature("divides score differences in the approximate ranks"),
		{Name: "scale_gains", Kind: Bool, DefaultOption: "true", HasDefault: true, Doc: "gains 2^t − 1 (true) or t (false)"}}},
	"ApproxMRR": {scoring, []Param{temperature("divides score differences in the approximate ranks")}},
	"ApproxRankMSE": {scoring, []Param{temperature("divides score differences in the approximate ranks"),
		{Name: "discount", Kind: Choice, DefaultOption: "none", HasDefault: true, Choices: []string{"none", "log2", "reciprocal"},
			Doc: "weight of each doc's squared rank error: 1, 1/log2(rank+1) or 1/rank"}}},
	"InBatchCrossEntropy": {inBatch, []Param{
		{Name: "pos_sampling_technique", Kind: Choice, DefaultOption: "all", HasDefault: true, Choices: []string{"all", "first"},
			Doc: "positives: the query's own docs, or its first doc"},
		{Name: "neg_sampling_technique", Kind: Choice, DefaultOption: "all", HasDefault: true, Choices: []string{"all", "first", "all_and_non_first"},
			Doc: "negatives: other queries' docs, their first docs, or every doc but the query's first (needs pos_sampling_technique first)"},
		maxNumNegSamples}},
	"ScoreBasedInBatchCrossEntropy": {inBatch, []Param{
		{Name: "min_target_diff", Kind: Number, Required: true, Min: math.Inf(-1),
			Doc: "a doc of the query's own list is a negative when its target is at least this far below the best"},
		maxNumNegSamples}},
	"FLOPSRegularization": {embeddings, regularization},
	"L1Regularization":    {embeddings, regularization},
	"L2Regularization":    {embeddings, regularization},
	// xpmir (experimaestro-ir, src/xpmir/letor/distillation/listwise.py).
	"ListwiseSoftmaxCrossEntropy": {scoring, []Param{
		{Name: "output_type", Kind: Choice, DefaultOption: "real", HasDefault: true, Choices: []string{"real", "log_probability", "probability"},
			Doc: "what the model's scores are (xpmir's ModuleOutputType): normalised by log_softmax, as is, or by log"}}},
	"DistillRankNet": {scoring, nil},
	"ADR-MSE":        {scoring, nil},
}

// Names lists every supported loss, sorted.
func Names() []string {
	out := make([]string, 0, len(defs))
	for n := range defs {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func lookup(name string) (def, error) {
	d, ok := defs[name]
	if ok {
		return d, nil
	}
	best, bestDist := "", math.MaxInt
	for _, n := range Names() {
		if dist := levenshtein.Distance(strings.ToLower(name), strings.ToLower(n), nil); dist < bestDist {
			best, bestDist = n, dist
		}
	}
	hint := ""
	if bestDist <= max(3, len(name)/3) {
		hint = fmt.Sprintf(" (did you mean %q?)", best)
	}
	return def{}, fmt.Errorf("loss: unknown loss %q%s; known: %s", name, hint, strings.Join(Names(), ", "))
}

// Describe lists a loss's parameters (in Lightning IR's argument order).
func Describe(name string) ([]Param, error) {
	d, err := lookup(name)
	if err != nil {
		return nil, err
	}
	return slices.Clone(d.params), nil
}

// Defaults returns a loss's numeric and string parameters that have a
// default, with it. Parameters without one (required, or None when absent)
// are left out; [Describe] lists them all.
func Defaults(name string) (map[string]float64, map[string]string, error) {
	d, err := lookup(name)
	if err != nil {
		return nil, nil, err
	}
	num, opt := map[string]float64{}, map[string]string{}
	for _, p := range d.params {
		switch {
		case !p.HasDefault:
		case p.Kind == Number || p.Kind == Integer:
			num[p.Name] = p.Default
		default:
			opt[p.Name] = p.DefaultOption
		}
	}
	return num, opt, nil
}

// NeedsEmbeddings reports whether a loss needs a bi-encoder's embeddings or
// in-batch scores (the regularisers and in-batch losses), which a
// cross-encoder cannot give.
func NeedsEmbeddings(name string) bool {
	d, ok := defs[name]
	return ok && d.family != scoring
}

// Validate checks the name, every parameter's name and value, and the
// weight; errors name the loss and the parameter.
func (s Spec) Validate() error {
	_, err := s.resolve()
	return err
}

// resolved is a validated spec with its defaults filled in.
type resolved struct {
	name   string
	family family
	weight float64
	num    map[string]float64 // numbers set or defaulted; absent = None
	opt    map[string]string
}

func (s Spec) resolve() (resolved, error) {
	d, err := lookup(s.Name)
	if err != nil {
		return resolved{}, err
	}
	r := resolved{name: s.Name, family: d.family, weight: s.Weight, num: map[string]float64{}, opt: map[string]string{}}
	if r.weight == 0 {
		r.weight = 1
	}
	if err := checkWeight(s.Name, r.weight); err != nil {
		return resolved{}, err
	}
	byName := map[string]Param{}
	for _, p := range d.params {
		byName[p.Name] = p
	}
	for _, k := range sortedKeys(s.Params) {
		p, ok := byName[k]
		if !ok {
			return resolved{}, unknownParam(s.Name, k, d)
		}
		if p.Kind == Bool || p.Kind == Choice {
			return resolved{}, fmt.Errorf("loss %s: %s is a %s: set it in Options, not Params", s.Name, k, p.Kind)
		}
		if err := checkNumber(s.Name, p, s.Params[k]); err != nil {
			return resolved{}, err
		}
		r.num[k] = s.Params[k]
	}
	for _, k := range sortedKeys(s.Options) {
		p, ok := byName[k]
		if !ok {
			return resolved{}, unknownParam(s.Name, k, d)
		}
		if p.Kind == Number || p.Kind == Integer {
			return resolved{}, fmt.Errorf("loss %s: %s is a number: set it in Params, not Options", s.Name, k)
		}
		v := s.Options[k]
		if p.Kind == Bool {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return resolved{}, fmt.Errorf("loss %s: %s = %q: want true or false", s.Name, k, v)
			}
			v = strconv.FormatBool(b)
		} else if !slices.Contains(p.Choices, v) {
			return resolved{}, fmt.Errorf("loss %s: %s = %q: want one of %s", s.Name, k, v, strings.Join(p.Choices, ", "))
		}
		r.opt[k] = v
	}
	for _, p := range d.params {
		_, inNum := r.num[p.Name]
		_, inOpt := r.opt[p.Name]
		switch {
		case inNum || inOpt:
		case p.Required:
			return resolved{}, fmt.Errorf("loss %s: parameter %s is required (%s)", s.Name, p.Name, p.Doc)
		case !p.HasDefault:
		case p.Kind == Number || p.Kind == Integer:
			r.num[p.Name] = p.Default
		default:
			r.opt[p.Name] = p.DefaultOption
		}
	}
	if r.opt["neg_sampling_technique"] == "all_and_non_first" && r.opt["pos_sampling_technique"] != "first" {
		return resolved{}, fmt.Errorf("loss %s: neg_sampling_technique all_and_non_first needs pos_sampling_technique first (Lightning IR refuses it otherwise)", s.Name)
	}
	return r, nil
}

func checkWeight(name string, w float64) error {
	if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
		return fmt.Errorf("loss %s: weight %v: want a finite number ≥ 0", name, w)
	}
	return nil
}

func checkNumber(name string, p Param, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("loss %s: %s = %v: want a finite number", name, p.Name, v)
	}
	if p.Kind == Integer && v != math.Trunc(v) {
		return fmt.Errorf("loss %s: %s = %v: want a whole number", name, p.Name, v)
	}
	switch {
	case p.MinExclusive && v <= p.Min:
		return fmt.Errorf("loss %s: %s = %v: want a number > %v", name, p.Name, v, p.Min)
	case !p.MinExclusive && v < p.Min:
		return fmt.Errorf("loss %s: %s = %v: want a number ≥ %v", name, p.Name, v, p.Min)
	}
	return nil
}

func unknownParam(name, key string, d def) error {
	if len(d.params) == 0 {
		return fmt.Errorf("loss %s: unknown parameter %q: it takes none", name, key)
	}
	names := make([]string, len(d.params))
	for i, p := range d.params {
		names[i] = p.Name
	}
	return fmt.Errorf("loss %s: unknown parameter %q; it takes %s", name, key, strings.Join(names, ", "))
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// ErrNoPairs is returned by the pairwise losses (RankNet, the margin MSEs,
// DistillRankNet) for a batch in which no query has two docs with different
// targets (e.g. one doc per query). Lightning IR returns NaN there, which
// would poison the weights; the trainer can skip such a batch.
var ErrNoPairs = errors.New("no query has two docs with different targets: the pairwise loss is undefined (Lightning IR gives NaN)")
