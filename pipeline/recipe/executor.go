package recipe

import (
	"fmt"
	"math/big"
	"regexp"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Block types that say where stages run; neither enters a cache key.
const (
	// BlockExecutor is the top-level `executor "slurm" { … }` block.
	BlockExecutor = "executor"
	// BlockResources is a stage's `resources { … }` block.
	BlockResources = "resources"
)

// Executor is the recipe's executor block: where `irflow run` runs stages
// unless --executor says otherwise, and the cluster settings.
type Executor struct {
	// Type is the block label: "local", "process" or "slurm".
	Type string
	// Slurm: the partition, account and QoS jobs go to, their default
	// time limit (Slurm's syntax: "30", "1:00:00", "2-00:00:00") and extra
	// sbatch arguments, passed as they are.
	Partition, Account, QOS, Time string
	SbatchArgs                    []string
	// Arrays submits stages that become ready together with the same
	// resources (a for_each sweep) as one job array.
	Arrays    bool
	DeclRange hcl.Range
}

// Resources is what one stage asks a cluster for; zero fields take the
// launcher's defaults for the kind.
type Resources struct {
	CPUs     int
	MemoryMB int
	GPUs     int
	Time     string
}

var slurmTime = regexp.MustCompile(`^(\d+-)?\d+(:\d+){0,2}$`)

func (l *loader) declareExecutor(b *hcl.Block) {
	if l.r.Executor != nil {
		l.errorf(b.DefRange.Ptr(), "Duplicate executor block", "The executor is already declared at %s.", l.r.Executor.DeclRange)
		return
	}
	e := &Executor{Type: b.Labels[0], DeclRange: b.DefRange}
	switch e.Type {
	case "local", "process", "slurm":
	default:
		l.errorf(b.LabelRanges[0].Ptr(), "Unknown executor", "There is no executor %q: want local, process or slurm.", e.Type)
		return
	}
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "partition"}, {Name: "account"}, {Name: "qos"}, {Name: "time"}, {Name: "sbatch_args"}, {Name: "arrays"},
	}})
	l.add(diags)
	ctx := l.varContext()
	for name, a := range content.Attributes {
		v, diags := a.Expr.Value(ctx)
		l.add(diags)
		if diags.HasErrors() {
			continue
		}
		if name == "sbatch_args" {
			if !v.Type().IsListType() && !v.Type().IsTupleType() {
				l.errorf(a.Expr.Range().Ptr(), "Invalid sbatch_args", "sbatch_args is a list of strings, e.g. [\"--constraint=a100\"].")
				continue
			}
			for it := v.ElementIterator(); it.Next(); {
				_, ev := it.Element()
				if ev.IsNull() || ev.Type() != cty.String {
					l.errorf(a.Expr.Range().Ptr(), "Invalid sbatch_args", "sbatch_args is a list of strings.")
					break
				}
				e.SbatchArgs = append(e.SbatchArgs, ev.AsString())
			}
			continue
		}
		if name == "arrays" {
			if v.IsNull() || v.Type() != cty.Bool {
				l.errorf(a.Expr.Range().Ptr(), "Invalid arrays", "arrays is true or false.")
				continue
			}
			e.Arrays = v.True()
			continue
		}
		if v.IsNull() || v.Type() != cty.String {
			l.errorf(a.Expr.Range().Ptr(), "Invalid "+name, "%s is a string.", name)
			continue
		}
		s := v.AsString()
		switch name {
		case "partition":
			e.Partition = s
		case "account":
			e.Account = s
		case "qos":
			e.QOS = s
		case "time":
			if !slurmTime.MatchString(s) {
				l.errorf(a.Expr.Range().Ptr(), "Invalid time", "%q is not a time limit: write minutes (\"30\"), \"H:MM:SS\" or \"D-HH:MM:SS\".", s)
			}
			e.Time = s
		}
	}
	l.r.Executor = e
}

// decodeResources decodes a stage instance's resources block (nil: none).
func (l *loader) decodeResources(b *hcl.Block, ctx *hcl.EvalContext) *Resources {
	if b == nil {
		return nil
	}
	content, diags := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "cpus"}, {Name: "memory_mb"}, {Name: "gpus"}, {Name: "time"},
	}})
	l.add(diags)
	r := &Resources{}
	for name, a := range content.Attributes {
		v, diags := a.Expr.Value(ctx)
		l.add(diags)
		if diags.HasErrors() || v.IsNull() || !v.IsKnown() {
			continue
		}
		if name == "time" {
			if v.Type() != cty.String || !slurmTime.MatchString(v.AsString()) {
				l.errorf(a.Expr.Range().Ptr(), "Invalid time", "time is a time limit string: minutes (\"30\"), \"H:MM:SS\" or \"D-HH:MM:SS\".")
				continue
			}
			r.Time = v.AsString()
			continue
		}
		n, ok := wholeNumber(v)
		if !ok || n < 0 || (n == 0 && name == "cpus") {
			l.errorf(a.Expr.Range().Ptr(), "Invalid "+name, "%s is a whole number (at least %d).", name, map[bool]int{true: 1, false: 0}[name == "cpus"])
			continue
		}
		switch name {
		case "cpus":
			r.CPUs = n
		case "memory_mb":
			r.MemoryMB = n
		case "gpus":
			r.GPUs = n
		}
	}
	return r
}

func wholeNumber(v cty.Value) (int, bool) {
	if v.Type() != cty.Number {
		return 0, false
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		return 0, false
	}
	i, acc := bf.Int64()
	if acc != big.Exact || i > 1<<31 {
		return 0, false
	}
	return int(i), true
}

func (e *Executor) String() string { return fmt.Sprintf("executor %q", e.Type) }
