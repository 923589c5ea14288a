package loss

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	want := []string{"ADR-MSE", "ApproxMRR", "ApproxNDCG", "ApproxRankMSE", "ConstantMarginMSE", "DistillRankNet",
		"FLOPSRegularization", "InBatchCrossEntropy", "InfoNCE", "KLDivergence", "L1Regularization", "L2Regularization",
		"ListwiseSoftmaxCrossEntropy", "PearsonCorrelation", "RankNet", "ScoreBasedInBatchCrossEntropy", "SupervisedMarginMSE"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v\nwant %v", got, want)
	}
	for _, n := range want {
		if err := (Spec{Name: n, Params: requiredParams(n)}).Validate(); err != nil {
			t.Errorf("%s with its defaults: %v", n, err)
		}
	}
}

func requiredParams(name string) map[string]float64 {
	if name == "ScoreBasedInBatchCrossEntropy" {
		return map[string]float64{"min_target_diff": 1}
	}
	return nil
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		spec Spec
		err  string // "" = valid; else substrings of the error, "|"-separated
	}{
		{Spec{Name: "InfoNCE"}, ""},
		{Spec{Name: "RankNet", Weight: 0.5, Params: map[string]float64{"temperature": 0.5}}, ""},
		{Spec{Name: "ApproxNDCG", Options: map[string]string{"scale_gains": "false"}}, ""},
		{Spec{Name: "ApproxRankMSE", Options: map[string]string{"discount": "reciprocal"}}, ""},
		{Spec{Name: "InBatchCrossEntropy", Params: map[string]float64{"max_num_neg_samples": 7},
			Options: map[string]string{"pos_sampling_technique": "first", "neg_sampling_technique": "all_and_non_first"}}, ""},
		{Spec{Name: "ConstantMarginMSE", Params: map[string]float64{"margin": -2}}, ""},
		{Spec{Name: "FLOPSRegularization", Params: map[string]float64{"query_weight": 0, "doc_weight": 3e-4}}, ""},

		{Spec{Name: "InfoNce"}, `unknown loss "InfoNce"|did you mean "InfoNCE"?`},
		{Spec{Name: "ADR_MSE"}, `did you mean "ADR-MSE"?`},
		{Spec{Name: "Foo"}, `unknown loss "Foo"|known: ADR-MSE, `},
		{Spec{Name: "RankNet", Params: map[string]float64{"temp": 1}}, `loss RankNet: unknown parameter "temp"; it takes temperature`},
		{Spec{Name: "KLDivergence", Params: map[string]float64{"temperature": 1}}, `loss KLDivergence: unknown parameter "temperature": it takes none`},
		{Spec{Name: "ApproxMRR", Params: map[string]float64{"temperature": 0}}, "loss ApproxMRR: temperature = 0: want a number > 0"},
		{Spec{Name: "ApproxMRR", Params: map[string]float64{"temperature": math.NaN()}}, "temperature = NaN: want a finite number"},
		{Spec{Name: "InfoNCE", Weight: -1}, "loss InfoNCE: weight -1"},
		{Spec{Name: "InfoNCE", Weight: math.Inf(1)}, "weight +Inf"},
		{Spec{Name: "InBatchCrossEntropy", Params: map[string]float64{"max_num_neg_samples": 2.5}}, "max_num_neg_samples = 2.5: want a whole number"},
		{Spec{Name: "InBatchCrossEntropy", Params: map[string]float64{"max_num_neg_samples": 0}}, "max_num_neg_samples = 0: want a number ≥ 1"},
		{Spec{Name: "L1Regularization", Params: map[string]float64{"doc_weight": -1e-4}}, "doc_weight = -0.0001: want a number ≥ 0"},
		{Spec{Name: "ApproxNDCG", Options: map[string]string{"scale_gains": "maybe"}}, `scale_gains = "maybe": want true or false`},
		{Spec{Name: "ApproxNDCG", Params: map[string]float64{"scale_gains": 0}}, "scale_gains is a bool: set it in Options"},
		{Spec{Name: "ApproxRankMSE", Options: map[string]string{"temperature": "1"}}, "temperature is a number: set it in Params"},
		{Spec{Name: "ApproxRankMSE", Options: map[string]string{"discount": "log10"}}, `discount = "log10": want one of none, log2, reciprocal`},
		{Spec{Name: "ScoreBasedInBatchCrossEntropy"}, "loss ScoreBasedInBatchCrossEntropy: parameter min_target_diff is required"},
		{Spec{Name: "InBatchCrossEntropy", Options: map[string]string{"neg_sampling_technique": "all_and_non_first"}},
			"all_and_non_first needs pos_sampling_technique first"},
		{Spec{Name: "ListwiseSoftmaxCrossEntropy", Options: map[string]string{"output_type": "logits"}}, "want one of real, log_probability, probability"},
	} {
		err := c.spec.Validate()
		if c.err == "" {
			if err != nil {
				t.Errorf("%+v: %v", c.spec, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%+v: no error, want %q", c.spec, c.err)
			continue
		}
		for _, part := range strings.Split(c.err, "|") {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("%+v: error %q lacks %q", c.spec, err, part)
			}
		}
	}
}

func TestDefaults(t *testing.T) {
	for _, c := range []struct {
		name string
		num  map[string]float64
		opt  map[string]string
	}{
		{"RankNet", map[string]float64{"temperature": 1}, map[string]string{}},
		{"ConstantMarginMSE", map[string]float64{"margin": 1}, map[string]string{}},
		{"ApproxNDCG", map[string]float64{"temperature": 1}, map[string]string{"scale_gains": "true"}},
		{"ApproxRankMSE", map[string]float64{"temperature": 1}, map[string]string{"discount": "none"}},
		{"InBatchCrossEntropy", map[string]float64{}, map[string]string{"pos_sampling_technique": "all", "neg_sampling_technique": "all"}},
		{"ScoreBasedInBatchCrossEntropy", map[string]float64{}, map[string]string{}},
		{"L2Regularization", map[string]float64{"query_weight": 1e-4, "doc_weight": 1e-4}, map[string]string{}},
		{"ListwiseSoftmaxCrossEntropy", map[string]float64{}, map[string]string{"output_type": "real"}},
		{"InfoNCE", map[string]float64{}, map[string]string{}},
	} {
		num, opt, err := Defaults(c.name)
		if err != nil {
			t.Fatal(err)
		}
		if !mapsEqual(num, c.num) || !mapsEqual(opt, c.opt) {
			t.Errorf("Defaults(%s) = %v, %v; want %v, %v", c.name, num, opt, c.num, c.opt)
		}
	}
	if _, _, err := Defaults("Nope"); err == nil {
		t.Error("Defaults of an unknown loss: no error")
	}
	ps, err := Describe("ScoreBasedInBatchCrossEntropy")
	if err != nil || len(ps) != 2 || !ps[0].Required || ps[1].HasDefault || ps[1].Kind != Integer {
		t.Errorf("Describe(ScoreBasedInBatchCrossEntropy) = %+v, %v", ps, err)
	}
}

func mapsEqual[V comparable](a, b map[string]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestNeedsEmbeddings(t *testing.T) {
	want := map[string]bool{"InBatchCrossEntropy": true, "ScoreBasedInBatchCrossEntropy": true,
		"FLOPSRegularization": true, "L1Regularization": true, "L2Regularization": true}
	for _, n := range Names() {
		if got := NeedsEmbeddings(n); got != want[n] {
			t.Errorf("NeedsEmbeddings(%s) = %v", n, got)
		}
	}
	if NeedsEmbeddings("Nope") {
		t.Error("NeedsEmbeddings of an unknown loss")
	}
}

func TestNewAndSet(t *testing.T) {
	if _, err := New(Spec{Name: "Nope"}); err == nil {
		t.Fatal("New of an unknown loss: no error")
	}
	l, err := New(Spec{Name: "FLOPSRegularization", Params: map[string]float64{"doc_weight": 3e-4}})
	if err != nil {
		t.Fatal(err)
	}
	if l.Weight() != 1 || l.Name() != "FLOPSRegularization" {
		t.Errorf("weight %v name %q", l.Weight(), l.Name())
	}
	if v, _ := l.Param("query_weight"); v != 1e-4 {
		t.Errorf("default query_weight %v", v)
	}
	if v, _ := l.Param("doc_weight"); v != 3e-4 {
		t.Errorf("doc_weight %v", v)
	}
	if err := l.Set("query_weight", 0.5); err != nil {
		t.Fatal(err)
	}
	if v, _ := l.Param("query_weight"); v != 0.5 {
		t.Errorf("query_weight after Set: %v", v)
	}
	if err := l.Set("weight", 0); err != nil || l.Weight() != 0 {
		t.Errorf("Set(weight, 0): %v, weight %v", err, l.Weight())
	}
	for _, c := range []struct {
		loss, param string
		v           float64
		err         string
	}{
		{"FLOPSRegularization", "query_weight", -1, "query_weight = -1: want a number ≥ 0"},
		{"FLOPSRegularization", "temperature", 1, `unknown parameter "temperature"`},
		{"FLOPSRegularization", "weight", math.NaN(), "weight NaN"},
		{"ApproxNDCG", "scale_gains", 0, "scale_gains is a bool, not a number"},
		{"InBatchCrossEntropy", "max_num_neg_samples", 1.5, "want a whole number"},
	} {
		l, err := New(Spec{Name: c.loss})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Set(c.param, c.v); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s.Set(%s, %v) = %v, want %q", c.loss, c.param, c.v, err, c.err)
		}
	}
	// Set on one loss leaves another built from the same spec alone.
	spec := Spec{Name: "RankNet", Params: map[string]float64{"temperature": 2}}
	a, _ := New(spec)
	b, _ := New(spec)
	if err := a.Set("temperature", 3); err != nil {
		t.Fatal(err)
	}
	if v, _ := b.Param("temperature"); v != 2 || spec.Params["temperature"] != 2 {
		t.Errorf("Set leaked into another loss or the spec: %v, %v", v, spec.Params)
	}
}
