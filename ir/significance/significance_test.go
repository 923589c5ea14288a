package significance

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
)

// oracleCases were printed by scripts/oracle/report/significance_cases.py
// with scipy 1.17.1 (ttest_rel, wilcoxon with its defaults) and the exact
// two-sided sign-flip p-value over all 2ⁿ assignments; the same script runs
// live in TestAgainstScipyLive when the ranx venv is there.
var oracleCases = []struct {
	name               string
	a, b               []float64
	t, wilcoxon, exact float64 // exact < 0: not enumerated
}{
	{"exact-n8", []float64{0.9, 0.8, 0.75, 0.6, 0.55, 0.3, 0.2, 0.1}, []float64{0.5, 0.85, 0.7, 0.2, 0.65, 0.25, 0.05, 0.12},
		0.15290357653014916, 0.1953125, 0.203125},
	{"ties-zeros-n10", []float64{1, 0.5, 0.5, 0.2, 0.3, 0.0, 1.0, 0.6, 0.25, 0.4}, []float64{0.5, 0.5, 0.0, 0.7, 0.3, 0.5, 0.5, 0.1, 0.25, 0.9},
		0.7263142108887258, 0.6875, 1.0},
	{"ties-zeros-n18", []float64{0, 0, 0, 1, -2, 3, 3, 4, -5, 6, 7, 8, 9, 10, 11, 12, -13, 14}, make([]float64, 18),
		0.028934421548679593, 0.030874206962359277, 0.033203125},
	{"n60", n60a(), n60b(), 0.9161922231855604, 0.945839937390982, -1},
	{"shifted-n20", shiftedA(), shiftedB(), 5.018566997664052e-12, 7.815801127500206e-05, 1.9073486328125e-06},
}

func n60a() []float64 {
	x := make([]float64, 60)
	for i := range x {
		x[i] = float64((i*37)%17) / 17
	}
	return x
}

func n60b() []float64 {
	x := make([]float64, 60)
	for i := range x {
		x[i] = float64((i*11)%13) / 13
	}
	return x
}

func shiftedA() []float64 {
	x := make([]float64, 20)
	for i := range x {
		e := 0.01
		if i%3 == 0 {
			e = -0.02
		}
		x[i] = float64(i)/20 + 0.05 + e
	}
	return x
}

func shiftedB() []float64 {
	x := make([]float64, 20)
	for i := range x {
		x[i] = float64(i) / 20
	}
	return x
}

func close(got, want, tol float64) bool {
	return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want))
}

func TestPairedTAndWilcoxonMatchScipy(t *testing.T) {
	for _, c := range oracleCases {
		p, err := PairedT(c.a, c.b)
		if err != nil || !close(p, c.t, 1e-9) {
			t.Errorf("%s: t-test p = %.17g, %v; scipy %.17g", c.name, p, err, c.t)
		}
		// The test is symmetric in its arguments.
		if q, _ := PairedT(c.b, c.a); !close(q, p, 1e-12) {
			t.Errorf("%s: t-test not symmetric: %g vs %g", c.name, p, q)
		}
		p, err = SignedRank(c.a, c.b)
		if err != nil || !close(p, c.wilcoxon, 1e-9) {
			t.Errorf("%s: wilcoxon p = %.17g, %v; scipy %.17g", c.name, p, err, c.wilcoxon)
		}
		if q, _ := SignedRank(c.b, c.a); !close(q, p, 1e-12) {
			t.Errorf("%s: wilcoxon not symmetric: %g vs %g", c.name, p, q)
		}
	}
}

// TestRandomizationWithinMonteCarloError: with n rounds the estimate has
// standard error √(p(1−p)/n) around the exact sign-flip p-value.
func TestRandomizationWithinMonteCarloError(t *testing.T) {
	const n = 200000
	for _, c := range oracleCases {
		if c.exact < 0 {
			continue
		}
		p, err := Randomization(c.a, c.b, n, 42)
		if err != nil {
			t.Fatal(err)
		}
		se := math.Sqrt(c.exact * (1 - c.exact) / n)
		if math.Abs(p-c.exact) > 5*se+1.0/n {
			t.Errorf("%s: randomisation p = %.6f, exact %.6f (5 s.e. = %.6f)", c.name, p, c.exact, 5*se)
		}
		again, _ := Randomization(c.a, c.b, n, 42)
		if again != p {
			t.Errorf("%s: same seed gave %g then %g", c.name, p, again)
		}
	}
	// Identical systems: every assignment reaches |0| ≥ 0.
	if p, _ := Randomization([]float64{1, 2, 3}, []float64{1, 2, 3}, 100, 1); p != 1 {
		t.Errorf("identical systems: p = %g, want 1", p)
	}
}

func TestDegenerateAndErrors(t *testing.T) {
	same := []float64{0.1, 0.2, 0.3}
	for _, tc := range []struct {
		name string
		f    func() (float64, error)
		want float64
	}{
		{"t identical", func() (float64, error) { return PairedT(same, same) }, 1},
		{"t constant shift", func() (float64, error) { return PairedT([]float64{1, 2, 3}, []float64{0, 1, 2}) }, 0},
		{"wilcoxon identical", func() (float64, error) { return SignedRank(same, same) }, 1},
	} {
		if got, err := tc.f(); err != nil || got != tc.want {
			t.Errorf("%s: %g, %v; want %g", tc.name, got, err, tc.want)
		}
	}
	for name, f := range map[string]func() (float64, error){
		"length":    func() (float64, error) { return PairedT([]float64{1}, []float64{1, 2}) },
		"empty":     func() (float64, error) { return SignedRank(nil, nil) },
		"t n=1":     func() (float64, error) { return PairedT([]float64{1}, []float64{2}) },
		"no rounds": func() (float64, error) { return Randomization(same, same, 0, 1) },
		"unknown":   func() (float64, error) { return Compare(same, same, Options{Test: "sign"}) },
	} {
		if _, err := f(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestAdjust checks statsmodels' multipletests formulas on a hand-worked
// family: p = (0.01, 0.04, 0.03, 0.005), m = 4. Bonferroni multiplies by
// 4; Holm sorts (0.005, 0.01, 0.03, 0.04), multiplies by (4, 3, 2, 1) to
// (0.02, 0.03, 0.06, 0.04) and keeps the running maximum.
func TestAdjust(t *testing.T) {
	p := []float64{0.01, 0.04, 0.03, 0.005}
	for _, tc := range []struct {
		c    Correction
		want []float64
	}{
		{NoCorrection, p},
		{Bonferroni, []float64{0.04, 0.16, 0.12, 0.02}},
		{Holm, []float64{0.03, 0.06, 0.06, 0.02}},
		{Holm, nil}, // below: capped at 1
	} {
		if tc.want == nil {
			got, _ := Adjust([]float64{0.6, 0.5, math.NaN()}, Holm)
			if got[0] != 1 || got[1] != 1 || !math.IsNaN(got[2]) {
				t.Errorf("holm cap/NaN: %v", got)
			}
			continue
		}
		got, err := Adjust(p, tc.c)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if !close(got[i], tc.want[i], 1e-12) {
				t.Errorf("%s: %v, want %v", tc.c, got, tc.want)
				break
			}
		}
	}
	if _, err := Adjust(p, "sidak"); err == nil {
		t.Error("unknown correction accepted")
	}
}

func TestCount(t *testing.T) {
	got := Count([]float64{1, 0.5, 0.2, 0}, []float64{0.5, 0.5, 0.3, 0})
	if got != (WTL{Wins: 1, Ties: 2, Losses: 1}) {
		t.Errorf("Count = %+v", got)
	}
}

// TestAgainstScipyLive reruns the oracle script, so the table above can
// be regenerated and is checked against the installed scipy.
func TestAgainstScipyLive(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not rerunning scipy (the committed table above still ran)")
	}
	py := os.Getenv("IRFLOW_PYTHON")
	if py == "" {
		py = filepath.Join(testenv.RepoRoot(t), ".venv", "bin", "python")
	}
	if _, err := os.Stat(py); err != nil {
		t.Skipf("no oracle venv at %s (./task setup makes it): the committed table above still ran", py)
	}
	out, err := exec.Command(py, filepath.Join(testenv.RepoRoot(t), "scripts", "oracle", "report", "significance_cases.py")).Output()
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Name        string
		A, B        []float64
		T, Wilcoxon float64
	}
	if err := json.Unmarshal(out, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) != len(oracleCases) {
		t.Fatalf("oracle printed %d cases, the table has %d", len(cases), len(oracleCases))
	}
	for _, c := range cases {
		pt, _ := PairedT(c.A, c.B)
		pw, _ := SignedRank(c.A, c.B)
		if !close(pt, c.T, 1e-9) || !close(pw, c.Wilcoxon, 1e-9) {
			t.Errorf("%s: t %g vs scipy %g, wilcoxon %g vs scipy %g", c.Name, pt, c.T, pw, c.Wilcoxon)
		}
	}
}
