package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"text/tabwriter"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/ir/datasets"
	"github.com/irflow/irflow/pipeline/cache"
)

func init() {
	register("doctor", "check the installation: versions, threads, devices, caches, a torch self-check", doctorCommand)
}

func doctorCommand(args []string) error {
	fs := newFlagSet("doctor", "")
	threads := fs.Int("threads", 0, "libtorch intra-op threads for the self-check (0: libtorch's default)")
	device := fs.String("device", "cpu", "device for the self-check: cpu, cuda or cuda:N")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, "doctor takes no arguments")
	}
	dev, err := torch.ParseDevice(*device)
	if err != nil {
		return usageError(fs, "%v", err)
	}
	// Without libtorch there is nothing else worth reporting: one line that
	// says how to fix it.
	if err := torch.Available(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return &exitError{code: exitFailure, err: err, reported: true}
	}
	return doctor(os.Stdout, dev, *threads)
}

func doctor(out io.Writer, dev torch.Device, threads int) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(w, "%s\t%s\n", k, fmt.Sprintf(format, a...)) }

	row("irflow", "%s", version())
	row("go", "%s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	row("libtorch", "%s (%s)", torch.Version(), orUnknown(torch.LibraryDir()))

	rt, err := torch.Open(torch.Options{Threads: threads, Device: dev})
	if err != nil {
		w.Flush()
		return &exitError{code: exitFailure, err: err}
	}
	defer rt.Close()
	row("threads", "%d intra-op (%d CPUs)", rt.Threads(), runtime.NumCPU())
	cuda := "not built (build with -tags torch,cuda)"
	if torch.CUDABuilt() {
		cuda = fmt.Sprintf("%d device(s)", torch.CUDADeviceCount())
	}
	row("devices", "cpu; cuda: %s; self-check on %s", cuda, rt.Device())

	cacheDir, _ := filepath.Abs(cache.ResolveDir(""))
	row("cache", "%s (--cache-dir, $%s)", cacheDir, cache.Env)
	if st, err := datasets.FromEnv(); err == nil {
		row("datasets", "%s ($%s)", st.Dir, datasets.EnvDir)
	}

	sum, err := selfCheck(rt)
	if err != nil {
		row("self-check", "FAILED: %v", err)
		w.Flush()
		return &exitError{code: exitFailure, err: errors.New("torch self-check failed"), reported: true}
	}
	row("self-check", "ok (%s)", sum)
	return w.Flush()
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// selfCheck runs a small forward and backward pass whose gradient is known
// in closed form: for loss = Σ (w·x)², ∂loss/∂w = 2·w·x². It also pushes a
// batch through the ops a BERT layer uses and checks the result is finite.
func selfCheck(rt *torch.Runtime) (string, error) {
	w0 := []float32{1, -2, 0.5}
	x0 := []float32{3, 0.25, -4}
	var summary string
	err := rt.Do(context.Background(), func(s *torch.Scope) error {
		w, err := s.FromFloat32(w0)
		if err != nil {
			return err
		}
		if err := s.SetRequiresGrad(w, true); err != nil {
			return err
		}
		x, err := s.FromFloat32(x0)
		if err != nil {
			return err
		}
		wx, err := s.Mul(w, x)
		if err != nil {
			return err
		}
		sq, err := s.PowScalar(wx, 2)
		if err != nil {
			return err
		}
		loss, err := s.SumAll(sq)
		if err != nil {
			return err
		}
		if err := s.Backward(loss); err != nil {
			return err
		}
		g, err := s.Grad(w)
		if err != nil {
			return err
		}
		if g == nil {
			return errors.New("backward produced no gradient")
		}
		got, err := s.Float32s(g)
		if err != nil {
			return err
		}
		for i := range w0 {
			want := 2 * w0[i] * x0[i] * x0[i]
			if math.Abs(float64(got[i]-want)) > 1e-5 {
				return fmt.Errorf("gradient %v, want 2·w·x² = %v at %d", got, want, i)
			}
		}
		n, err := encoderLayerCheck(s)
		if err != nil {
			return err
		}
		summary = fmt.Sprintf("gradient of Σ(w·x)² = %v as expected; %d-value attention+GELU+LayerNorm block finite", got, n)
		return nil
	})
	return summary, err
}

// encoderLayerCheck runs softmax attention, a GELU feed-forward and a
// LayerNorm over a [2, 4, 8] batch of random values.
func encoderLayerCheck(s *torch.Scope) (int, error) {
	h, err := s.Randn(torch.Float32, 2, 4, 8)
	if err != nil {
		return 0, err
	}
	ht, err := s.Transpose(h, 1, 2)
	if err != nil {
		return 0, err
	}
	scores, err := s.MatMul(h, ht)
	if err != nil {
		return 0, err
	}
	att, err := s.Softmax(scores, -1)
	if err != nil {
		return 0, err
	}
	ctx, err := s.MatMul(att, h)
	if err != nil {
		return 0, err
	}
	ff, err := s.GELU(ctx)
	if err != nil {
		return 0, err
	}
	out, err := s.LayerNorm(ff, []int64{8}, nil, nil, 1e-12)
	if err != nil {
		return 0, err
	}
	v, err := s.Float32s(out)
	if err != nil {
		return 0, err
	}
	for _, e := range v {
		if math.IsNaN(float64(e)) || math.IsInf(float64(e), 0) {
			return 0, errors.New("non-finite value in the encoder block")
		}
	}
	return len(v), nil
}
