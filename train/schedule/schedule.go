// Package schedule gives Lightning IR 0.0.6's schedules as pure functions
// of the training step: learning-rate multipliers (its LinearLRScheduler-
// and ConstantLRSchedulerWithLinearWarmup) and the values of numeric recipe
// settings such as a FLOPS regulariser's weight (its Generic*Scheduler
// callbacks). A schedule is written in a recipe as a short expression (see
// Parse).
//
// Every schedule is a delay (factor 0), a warmup from 0 to 1 (linear or
// quadratic), then either a constant 1 or a linear decay to Final at
// TrainingSteps, measured from step 0:
//
//	step < delay                  0
//	step < delay + warmup         ((step - delay) / warmup)   or its square
//	constant                      1
//	linear                        max(final, 1 - (1 - final) / (T - delay - warmup) · (step - delay - warmup))
//
// The step fed to the formula differs between the two uses, as in
// Lightning IR: the learning rate of the optimiser update that takes
// global_step from k to k+1 is base·Factor(k) (torch's LambdaLR starts at
// 0 and steps after each update), while a value schedule sets the value
// at the start of every batch to base·Factor(global_step + 1). LRFactor and
// Value apply these offsets; with gradient accumulation, global_step counts
// optimiser updates, so every micro-batch of one update sees one value.
package schedule

import (
	"errors"
	"fmt"
	"strconv"
)

// Decay is what follows the warmup.
type Decay int

const (
	// Constant holds the factor at 1.
	Constant Decay = iota
	// Linear decays the factor linearly from 1 to Final at TrainingSteps,
	// then holds it at Final.
	Linear
)

// Warmup is the shape of the climb from 0 to 1.
type Warmup int

const (
	// LinearWarmup climbs as (step - delay) / warmup.
	LinearWarmup Warmup = iota
	// QuadraticWarmup climbs as ((step - delay) / warmup)².
	QuadraticWarmup
)

// Schedule is one schedule. The zero value is a constant factor of 1.
type Schedule struct {
	Decay         Decay
	Warmup        Warmup
	WarmupSteps   int     // Lightning IR's num_warmup_steps
	DelaySteps    int     // num_delay_steps: factor 0 before warming up
	TrainingSteps int     // num_training_steps (Linear only): the decay ends here
	Final         float64 // final_value (Linear only): the factor the decay ends at
}

// Check reports a schedule whose formula is undefined or meaningless.
func (s Schedule) Check() error { return s.check(true) }

// check is Check; without needSteps, a linear decay may still lack its
// TrainingSteps (a recipe may leave them to max_steps).
func (s Schedule) check(needSteps bool) error {
	var errs []error
	if s.Decay != Constant && s.Decay != Linear {
		errs = append(errs, fmt.Errorf("unknown decay %d", s.Decay))
	}
	if s.Warmup != LinearWarmup && s.Warmup != QuadraticWarmup {
		errs = append(errs, fmt.Errorf("unknown warmup shape %d", s.Warmup))
	}
	if s.WarmupSteps < 0 {
		errs = append(errs, fmt.Errorf("warmup = %d: want 0 or more steps", s.WarmupSteps))
	}
	if s.DelaySteps < 0 {
		errs = append(errs, fmt.Errorf("delay = %d: want 0 or more steps", s.DelaySteps))
	}
	if s.Decay == Linear {
		if s.Warmup == QuadraticWarmup {
			errs = append(errs, errors.New("a linear decay has a linear warmup (Lightning IR has no quadratic one)"))
		}
		if (needSteps || s.TrainingSteps != 0) && s.TrainingSteps <= s.DelaySteps+s.WarmupSteps {
			errs = append(errs, fmt.Errorf("steps = %d: a linear decay needs more training steps than delay + warmup = %d", s.TrainingSteps, s.DelaySteps+s.WarmupSteps))
		}
		if !(s.Final >= 0 && s.Final <= 1) {
			errs = append(errs, fmt.Errorf("final = %v: want a factor in [0, 1]", s.Final))
		}
	}
	return errors.Join(errs...)
}

// Factor is Lightning IR's value_lambda(step): the schedule's multiplier
// at step (>= 0). It follows Lightning IR's float64 arithmetic operation by
// operation, so the two agree to the last bit.
func (s Schedule) Factor(step int) float64 {
	if step < s.DelaySteps {
		return 0
	}
	if step < s.DelaySteps+s.WarmupSteps {
		x := float64(step-s.DelaySteps) / float64(s.WarmupSteps)
		if s.Warmup == QuadraticWarmup {
			return x * x
		}
		return x
	}
	if s.Decay == Constant {
		return 1
	}
	done := step - s.DelaySteps - s.WarmupSteps
	remaining := s.TrainingSteps - s.DelaySteps - s.WarmupSteps
	stepSize := (1 - s.Final) / float64(remaining)
	// The conversion rounds the product, so no platform fuses it into an
	// FMA that Python does not do.
	return max(s.Final, 1-float64(stepSize*float64(done)))
}

// LRFactor is the learning-rate multiplier of the optimiser update that
// takes global_step from globalStep to globalStep+1.
func (s Schedule) LRFactor(globalStep int) float64 { return s.Factor(globalStep) }

// Value is a scheduled setting's value while the batch at globalStep
// trains: base·Factor(globalStep + 1), base being the recipe's value.
func (s Schedule) Value(base float64, globalStep int) float64 {
	return base * s.Factor(globalStep+1)
}

// WithTrainingSteps fills in TrainingSteps for a linear decay that did not
// name its length (Lightning IR links trainer.max_steps to the LR
// scheduler's num_training_steps the same way).
func (s Schedule) WithTrainingSteps(maxSteps int) Schedule {
	if s.Decay == Linear && s.TrainingSteps == 0 {
		s.TrainingSteps = maxSteps
	}
	return s
}

// String is the schedule's recipe form; Parse reads it back.
func (s Schedule) String() string {
	delay := ""
	if s.DelaySteps != 0 {
		delay = fmt.Sprintf(", delay=%d", s.DelaySteps)
	}
	switch {
	case s.Decay == Linear:
		out := fmt.Sprintf("linear(warmup=%d%s", s.WarmupSteps, delay)
		if s.Final != 0 {
			out += ", final=" + strconv.FormatFloat(s.Final, 'g', -1, 64)
		}
		if s.TrainingSteps != 0 {
			out += fmt.Sprintf(", steps=%d", s.TrainingSteps)
		}
		return out + ")"
	case s.Warmup == QuadraticWarmup:
		return fmt.Sprintf("quadratic_warmup(warmup=%d%s)", s.WarmupSteps, delay)
	case s.WarmupSteps == 0 && s.DelaySteps == 0:
		return "constant"
	default:
		return fmt.Sprintf("linear_warmup(warmup=%d%s)", s.WarmupSteps, delay)
	}
}
