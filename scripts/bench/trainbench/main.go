// Command trainbench measures the training step time and peak memory of
// irflow's fit pieces (models/training, train/loss, train/optim) for
// `task bench:train`, which runs scripts/bench/train_torch.py — the same
// step in PyTorch — beside it. A step is what train/trainer runs: forward
// (tokenisation included) → InfoNCE (+ FLOPS for SPLADE) → backward →
// gradient clipping → AdamW → zero grad, on fixed batches of SciFact
// training text (see batches.go). It prints one JSON line.
//
// Without the torch build tag it compiles but stops with torch.ErrNotBuilt.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/training"
	"github.com/irflow/irflow/scripts/bench/internal/benchproc"
	"github.com/irflow/irflow/train/loss"
	"github.com/irflow/irflow/train/optim"
)

type config struct {
	model, head, data, cpuprofile string
	queryLen, docLen              int
	batch, docsPerQuery           int
	steps, warmup, threads        int
	lr, dropout, clip             float64
	printDigest                   bool
}

func main() {
	var c config
	flag.StringVar(&c.model, "model", "", "model directory")
	flag.StringVar(&c.head, "head", "", `head preset ("splade", "sentence-transformers", …; "" = the model's own)`)
	flag.StringVar(&c.data, "data", defaultData(), "SciFact directory (queries.train.tsv, qrels.train.txt, corpus.jsonl)")
	flag.IntVar(&c.queryLen, "query-length", 32, "query length in tokens")
	flag.IntVar(&c.docLen, "doc-length", 128, "doc length in tokens")
	flag.IntVar(&c.batch, "batch", 8, "queries per batch")
	flag.IntVar(&c.docsPerQuery, "docs-per-query", 4, "docs per query (1 positive + negatives)")
	flag.IntVar(&c.steps, "steps", 10, "timed steps")
	flag.IntVar(&c.warmup, "warmup-steps", 2, "untimed steps first")
	flag.IntVar(&c.threads, "threads", 2, "libtorch intra-op threads")
	flag.Float64Var(&c.lr, "lr", 2e-5, "AdamW learning rate (constant)")
	flag.Float64Var(&c.dropout, "dropout", -1, "dropout probability (-1: the config's; 0: off)")
	flag.Float64Var(&c.clip, "clip", 1, "gradient clipping max norm")
	flag.StringVar(&c.cpuprofile, "cpuprofile", "", "write a Go CPU profile of the timed steps here")
	flag.BoolVar(&c.printDigest, "digest", false, "only print the batches' digest (no model, no torch)")
	flag.Parse()
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "trainbench:", err)
		os.Exit(1)
	}
}

// defaultData is $IRFLOW_SHARED_DATA/scifact, else ../shared/data/scifact.
func defaultData() string {
	if d := os.Getenv("IRFLOW_SHARED_DATA"); d != "" {
		return filepath.Join(d, "scifact")
	}
	return filepath.Join("..", "shared", "data", "scifact")
}

func run(c config) error {
	if c.batch < 1 || c.docsPerQuery < 1 || c.steps < 1 || c.warmup < 0 {
		return fmt.Errorf("-batch, -docs-per-query and -steps must be positive, -warmup-steps not negative")
	}
	data, err := loadTrainData(c.data)
	if err != nil {
		return err
	}
	batches := data.batches(c.warmup+c.steps, c.batch, c.docsPerQuery)
	if c.printDigest {
		fmt.Println(digest(batches))
		return nil
	}
	if c.model == "" {
		return fmt.Errorf("-model is required")
	}
	ctx := context.Background()
	opts := training.Options{
		HeadPreset: c.head, Threads: c.threads, Seed: 1,
		Head: map[string]string{"query_length": strconv.Itoa(c.queryLen), "doc_length": strconv.Itoa(c.docLen)},
	}
	if c.dropout >= 0 {
		opts.Dropout = &c.dropout
	}
	m, err := training.Load(ctx, c.model, opts)
	if err != nil {
		return err
	}
	defer m.Close()
	m.SetTraining(true)
	losses, err := newLosses(m.Head.Architecture == "splade")
	if err != nil {
		return err
	}
	var params []*torch.Tensor
	groups := []optim.Group{{WeightDecay: 0.01}, {WeightDecay: 0}}
	nParams := int64(0)
	for _, p := range m.Params() {
		g := &groups[0]
		if !p.Decay {
			g = &groups[1]
		}
		g.Params, g.Names = append(g.Params, p.T), append(g.Names, p.Name)
		params = append(params, p.T)
		nParams += numel(p.T.Shape())
	}
	var opt *optim.AdamW
	if err := m.Runtime().Do(ctx, func(s *torch.Scope) error {
		opt, err = optim.New(s, groups, optim.Options{LR: c.lr, WeightDecay: 0.01})
		return err
	}); err != nil {
		return err
	}
	defer opt.Close()

	// phases sums the time of forward (tokenisation and loss included),
	// backward and the optimiser (clip, AdamW, zero grad) over the timed steps.
	var phases [3]time.Duration
	step := func(i int) (float64, error) {
		var lv float64
		var t [4]time.Time
		m.SeedStep(int64(i))
		err := m.Runtime().Do(ctx, func(s *torch.Scope) error {
			t[0] = time.Now()
			if err := s.Nested(func(s *torch.Scope) error {
				var b training.Batch
				for _, it := range batches[i] {
					b.Queries, b.Docs = append(b.Queries, it.Query), append(b.Docs, it.Docs)
				}
				out, err := m.Forward(s, b)
				if err != nil {
					return err
				}
				in, err := lossInput(s, out, c.batch, c.docsPerQuery)
				if err != nil {
					return err
				}
				total, _, err := loss.Sum(s, losses, in)
				if err != nil {
					return err
				}
				if lv, err = s.Item(total); err != nil {
					return err
				}
				t[1] = time.Now()
				return s.Backward(total)
			}); err != nil {
				return err
			}
			t[2] = time.Now()
			if c.clip > 0 {
				if _, err := s.ClipGradNorm(params, c.clip); err != nil {
					return err
				}
			}
			if err := opt.Step(s, c.lr); err != nil {
				return err
			}
			err := opt.ZeroGrad(s)
			t[3] = time.Now()
			return err
		})
		if i >= c.warmup {
			for k := range phases {
				phases[k] += t[k+1].Sub(t[k])
			}
		}
		return lv, err
	}

	var first, last float64
	for i := 0; i < c.warmup; i++ {
		if _, err := step(i); err != nil {
			return fmt.Errorf("warm-up step %d: %w", i+1, err)
		}
	}
	if c.cpuprofile != "" {
		f, err := os.Create(c.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	lat := make([]time.Duration, c.steps)
	cpu0 := cpuTime()
	start := time.Now()
	for k := 0; k < c.steps; k++ {
		t0 := time.Now()
		lv, err := step(c.warmup + k)
		if err != nil {
			return fmt.Errorf("step %d: %w", c.warmup+k+1, err)
		}
		lat[k] = time.Since(t0)
		if k == 0 {
			first = lv
		}
		last = lv
	}
	secs := time.Since(start).Seconds()
	cpu := cpuTime() - cpu0
	sum := benchproc.Summarize(lat)
	qTok, dTok := tokenLengths(m, batches[c.warmup])
	var names []string
	for _, l := range losses {
		names = append(names, l.Name())
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"impl": "irflow", "model": filepath.Base(filepath.Clean(c.model)), "head": m.Head.Architecture,
		"losses": strings.Join(names, "+"), "params": nParams,
		"threads": c.threads, "batch": c.batch, "docs_per_query": c.docsPerQuery,
		"query_length": c.queryLen, "doc_length": c.docLen,
		"query_shape": []int{c.batch, qTok}, "doc_shape": []int{c.batch * c.docsPerQuery, dTok},
		"steps": c.steps, "warmup_steps": c.warmup, "seconds": secs,
		"steps_per_s": float64(c.steps) / secs, "ms_per_step_mean": sum.Mean, "ms_per_step_p50": sum.P50,
		"cpu_ms_per_step": cpu.Seconds() * 1000 / float64(c.steps), "peak_rss_mb": peakRSSMB(),
		"loss_first": first, "loss_last": last, "batches_sha256": digest(batches),
		"forward_ms": ms(phases[0]) / float64(c.steps), "backward_ms": ms(phases[1]) / float64(c.steps),
		"optimizer_ms": ms(phases[2]) / float64(c.steps), "omp_wait_policy": os.Getenv("OMP_WAIT_POLICY"),
	})
}

// newLosses is InfoNCE, plus FLOPS with Lightning IR's default weights for
// SPLADE.
func newLosses(splade bool) ([]*loss.Loss, error) {
	specs := []loss.Spec{{Name: "InfoNCE"}}
	if splade {
		specs = append(specs, loss.Spec{Name: "FLOPSRegularization"})
	}
	var out []*loss.Loss
	for _, s := range specs {
		l, err := loss.New(s)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// lossInput is the model's output with order targets (1 for the first,
// positive doc, 0 for the rest), as train/trainer builds it.
func lossInput(s *torch.Scope, out *training.Output, q, d int) (loss.Input, error) {
	t := make([]float32, q*d)
	for i := 0; i < q; i++ {
		t[i*d] = 1
	}
	tt, err := s.FromFloat32(t, int64(q), int64(d))
	if err != nil {
		return loss.Input{}, err
	}
	return loss.Input{
		Scores: out.Scores, Targets: tt,
		QueryEmbeddings: out.QueryEmbeddings, DocEmbeddings: out.DocEmbeddings,
		QueryMask: out.QueryMask, DocMask: out.DocMask, InBatchScores: out.InBatchScores,
	}, nil
}

// tokenLengths is the padded query and doc length of a batch, as Forward
// tokenises it (these heads add no marker tokens and no expansion).
func tokenLengths(m *training.Model, b []trainItem) (q, d int) {
	var qs, ds []string
	for _, it := range b {
		qs = append(qs, it.Query)
		ds = append(ds, it.Docs...)
	}
	longest := func(texts []string, n int) int {
		l := 0
		for _, e := range m.Tokenizer().EncodeBatch(texts, n) {
			l = max(l, e.Len())
		}
		return l
	}
	return longest(qs, m.Head.QueryLength), longest(ds, m.Head.DocLength)
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

func numel(shape []int64) int64 {
	n := int64(1)
	for _, s := range shape {
		n *= s
	}
	return n
}

// cpuTime is the process's user + system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSSMB reads the process's peak resident set (VmHWM) from /proc.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb float64
			fmt.Sscanf(strings.TrimSpace(rest), "%f", &kb)
			return kb / 1024
		}
	}
	return -1
}
