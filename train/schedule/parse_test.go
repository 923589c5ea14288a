package schedule_test

import (
	"strings"
	"testing"

	"github.com/irflow/irflow/train/schedule"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		text string
		want schedule.Schedule
	}{
		{"constant", schedule.Schedule{}},
		{" constant() ", schedule.Schedule{}},
		{"linear_warmup(warmup=1000, delay=0)", schedule.Schedule{WarmupSteps: 1000}},
		{"linear_warmup( warmup = 10 , delay = 5 )", schedule.Schedule{WarmupSteps: 10, DelaySteps: 5}},
		{"quadratic_warmup(warmup=100)", schedule.Schedule{Warmup: schedule.QuadraticWarmup, WarmupSteps: 100}},
		{"linear(warmup=100, final=0)", schedule.Schedule{Decay: schedule.Linear, WarmupSteps: 100}},
		{"linear", schedule.Schedule{Decay: schedule.Linear}},
		{"linear(final=0.1, steps=500, delay=3)", schedule.Schedule{Decay: schedule.Linear, DelaySteps: 3, TrainingSteps: 500, Final: 0.1}},
	} {
		got, err := schedule.Parse(c.text)
		if err != nil {
			t.Errorf("%q: %v", c.text, err)
			continue
		}
		if got != c.want {
			t.Errorf("%q: %+v, want %+v", c.text, got, c.want)
		}
		back, err := schedule.Parse(got.String())
		if err != nil || back != got {
			t.Errorf("%q: String %q reads back as %+v, %v", c.text, got.String(), back, err)
		}
	}
}

// TestParseErrors: every error quotes the text and names the part at
// fault.
func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"", "no schedule name"},
		{"cosine(warmup=10)", `unknown schedule "cosine"`},
		{"linear_warmup", "linear_warmup needs warmup=N"},
		{"linear_warmup(delay=3)", "linear_warmup needs warmup=N"},
		{"linear_warmup(warmup=10", `missing ")"`},
		{"linear_warmup(warmup=10))", "stray parenthesis"},
		{"linear_warmup(warmpu=10)", `unknown parameter "warmpu": want warmup, delay`},
		{"linear_warmup(warmup=10, final=0.5)", `unknown parameter "final"`},
		{"linear_warmup(warmup=10, warmup=20)", "warmup given twice"},
		{"linear_warmup(warmup=1e3)", `warmup = "1e3": want a whole number`},
		{"linear_warmup(warmup=-1)", `warmup = "-1"`},
		{"linear_warmup(warmup)", `"warmup" is not key=value`},
		{"linear_warmup(warmup=10,)", `"" is not key=value`},
		{"constant(warmup=10)", "constant takes no parameters"},
		{"linear(final=high)", `final = "high": want a number`},
		{"linear(final=2)", "final = 2: want a factor in [0, 1]"},
		{"linear(steps=0)", `steps = "0"`},
		{"linear(warmup=100, steps=100)", "more training steps than delay + warmup = 100"},
	} {
		_, err := schedule.Parse(c.text)
		if err == nil {
			t.Errorf("%q parsed", c.text)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `"`+c.text+`"`) {
			t.Errorf("%q: error %q, want it to quote the text and say %q", c.text, err, c.want)
		}
	}
}

// TestCheck: a linear decay left to max_steps must get them before use.
func TestCheck(t *testing.T) {
	s, err := schedule.Parse("linear(warmup=100)")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err == nil || !strings.Contains(err.Error(), "steps = 0") {
		t.Fatalf("linear without steps: %v", err)
	}
	if err := s.WithTrainingSteps(50).Check(); err == nil {
		t.Fatal("max_steps 50 <= warmup 100 accepted")
	}
	if err := s.WithTrainingSteps(1000).Check(); err != nil {
		t.Fatal(err)
	}
	if got := s.WithTrainingSteps(1000).WithTrainingSteps(7).TrainingSteps; got != 1000 {
		t.Fatalf("WithTrainingSteps overrode steps already set: %d", got)
	}
	if err := (schedule.Schedule{Decay: schedule.Linear, Warmup: schedule.QuadraticWarmup, TrainingSteps: 10}).Check(); err == nil {
		t.Fatal("linear decay with quadratic warmup accepted")
	}
}
