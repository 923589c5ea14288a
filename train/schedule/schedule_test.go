package schedule_test

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/train/schedule"
)

// oracleFile is scripts/oracle/train/schedules.py's output (see
// testdata/README.md).
const oracleFile = "testdata/lightning_ir.json"

type oracleCase struct {
	Recipe   string             `json:"recipe"`
	Class    string             `json:"class"`
	Args     map[string]float64 `json:"args"`
	MaxSteps *int               `json:"max_steps"`
	Factors  []float64          `json:"factors"`
	LR       []float64          `json:"lr"`
	Base     float64            `json:"base"`
	Values   []float64          `json:"values"`
}

type oracle struct {
	Steps  int          `json:"steps"`
	BaseLR float64      `json:"base_lr"`
	LR     []oracleCase `json:"lr"`
	Value  []oracleCase `json:"value"`
}

func readOracle(t *testing.T) oracle {
	t.Helper()
	b, err := os.ReadFile(oracleFile)
	if err != nil {
		t.Fatal(err)
	}
	var o oracle
	if err := json.Unmarshal(b, &o); err != nil {
		t.Fatal(err)
	}
	if o.Steps == 0 || len(o.LR) == 0 || len(o.Value) == 0 {
		t.Fatalf("%s: no cases", oracleFile)
	}
	return o
}

// fromClass is the schedule a Lightning IR scheduler class and its
// arguments describe.
func fromClass(t *testing.T, c oracleCase) schedule.Schedule {
	s := schedule.Schedule{
		WarmupSteps:   int(c.Args["num_warmup_steps"]),
		DelaySteps:    int(c.Args["num_delay_steps"]),
		TrainingSteps: int(c.Args["num_training_steps"]),
		Final:         c.Args["final_value"],
	}
	switch {
	case strings.HasPrefix(c.Class, "Linear") || strings.HasPrefix(c.Class, "GenericLinear"):
		s.Decay = schedule.Linear
	case strings.Contains(c.Class, "Quadratic"):
		s.Warmup = schedule.QuadraticWarmup
	case strings.Contains(c.Class, "Constant"):
	default:
		t.Fatalf("unknown class %s", c.Class)
	}
	return s
}

// parsed reads the case's recipe form and checks it means the class.
func parsed(t *testing.T, c oracleCase) schedule.Schedule {
	t.Helper()
	s, err := schedule.Parse(c.Recipe)
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxSteps != nil {
		s = s.WithTrainingSteps(*c.MaxSteps)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if want := fromClass(t, c); s != want {
		t.Fatalf("%q parses to %+v; %s(%v) is %+v", c.Recipe, s, c.Class, c.Args, want)
	}
	return s
}

func close(a, b float64) bool { return math.Abs(a-b) <= 1e-12 }

// TestLRSchedulesMatchLightningIR steps Lightning IR's LR schedulers on a
// torch optimiser for 50 updates (oracle) and compares the multiplier and
// the learning rate of every update with LRFactor, within 1e-12 (they
// are in fact bitwise equal; the test logs it).
func TestLRSchedulesMatchLightningIR(t *testing.T) {
	o := readOracle(t)
	for _, c := range o.LR {
		t.Run(c.Recipe, func(t *testing.T) {
			s := parsed(t, c)
			exact := true
			for k := range o.Steps {
				f, lr := s.LRFactor(k), o.BaseLR*s.LRFactor(k)
				if !close(f, c.Factors[k]) || !close(lr, c.LR[k]) {
					t.Fatalf("update %d: factor %v lr %v; Lightning IR %v %v", k, f, lr, c.Factors[k], c.LR[k])
				}
				exact = exact && f == c.Factors[k] && lr == c.LR[k]
			}
			t.Logf("%s: %d updates agree (bitwise: %v)", c.Class, o.Steps, exact)
		})
	}
}

// TestValueSchedulesMatchLightningIR drives Lightning IR's generic
// schedulers as Lightning does (on_train_batch_start at global_step k
// sets base·lambda(k+1)) and compares the value in force at every step
// with Value.
func TestValueSchedulesMatchLightningIR(t *testing.T) {
	o := readOracle(t)
	for _, c := range o.Value {
		t.Run(c.Recipe, func(t *testing.T) {
			s := parsed(t, c)
			exact := true
			for k := range o.Steps {
				v := s.Value(c.Base, k)
				if !close(v, c.Values[k]) {
					t.Fatalf("global_step %d: %v; Lightning IR %v", k, v, c.Values[k])
				}
				exact = exact && v == c.Values[k]
			}
			t.Logf("%s: %d steps agree (bitwise: %v)", c.Class, o.Steps, exact)
		})
	}
}

// TestOracleFixtureIsCurrent reruns the oracle (about 15 s; not with
// -short) and checks that the committed fixture is its output.
func TestOracleFixtureIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not rerunning the Lightning IR oracle")
	}
	script, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "scripts", "oracle", "train", "schedules.py"))
	if err != nil {
		t.Fatal(err)
	}
	got := testenv.RunTorchPython(t, string(script))
	want, err := os.ReadFile(oracleFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("oracle output differs from %s; regenerate it:\n  .cache/venv-torch/bin/python scripts/oracle/train/schedules.py > train/schedule/%s", oracleFile, oracleFile)
	}
}

// TestFormulas checks a few factors against the formulas by hand.
func TestFormulas(t *testing.T) {
	lin := schedule.Schedule{Decay: schedule.Linear, WarmupSteps: 4, DelaySteps: 2, TrainingSteps: 16, Final: 0.5}
	quad := schedule.Schedule{Warmup: schedule.QuadraticWarmup, WarmupSteps: 4, DelaySteps: 1}
	for _, c := range []struct {
		s    schedule.Schedule
		step int
		want float64
	}{
		{lin, 0, 0}, {lin, 1, 0}, {lin, 2, 0}, {lin, 3, 0.25}, {lin, 5, 0.75}, {lin, 6, 1},
		{lin, 11, 0.75}, {lin, 16, 0.5}, {lin, 100, 0.5},
		{quad, 0, 0}, {quad, 1, 0}, {quad, 3, 0.25}, {quad, 4, 0.5625}, {quad, 5, 1}, {quad, 500, 1},
		{schedule.Schedule{}, 0, 1},
	} {
		if got := c.s.Factor(c.step); got != c.want {
			t.Errorf("%v at %d: %v, want %v", c.s, c.step, got, c.want)
		}
	}
	if got := quad.Value(8, 2); got != 8*0.25 {
		t.Errorf("Value(8) at global_step 2 is base·Factor(3) = 2, got %v", got)
	}
	if got := quad.LRFactor(3); got != 0.25 {
		t.Errorf("LRFactor(3) is Factor(3) = 0.25, got %v", got)
	}
}
