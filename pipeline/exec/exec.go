// Package exec runs a plan: it walks the DAG with up to Jobs stages at a
// time, computes each stage's cache key once its inputs are known, skips
// cached stages, runs the others under a per-key lock (so concurrent runs
// on one cache execute each key once), commits their outputs atomically,
// checks expectations and reports a summary.
package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/log"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/launch"
	"github.com/irflow/irflow/pipeline/plan"
	"github.com/irflow/irflow/pipeline/recipe"
)

// RegisterVersion records the version of a library a backend uses (e.g.
// RegisterVersion("libtorch", "2.1.0")); every manifest written by this
// process lists it. It does not enter cache keys: a kind's Version does.
func RegisterVersion(name, version string) { launch.RegisterVersion(name, version) }

// Options configure a run.
type Options struct {
	Cache *cache.Cache
	// Files digests external inputs (the cache's digest memo).
	Files recipe.Hasher
	// Jobs is how many stages may execute at once (default: CPUs).
	Jobs int
	// Threads is each stage's Job.Threads. By default a stage gets the
	// CPUs divided by the number of stages executing when it starts (≥ 1),
	// so a stage running alone uses the whole machine.
	Threads int
	Logger  *log.Logger
	// Progress and ProgressOut choose how stages show progress.
	Progress    ProgressMode
	ProgressOut io.Writer
	// FailFast cancels the run at the first failure; by default the
	// dependents of a failed stage are skipped and the others go on.
	FailFast bool
	// Irflow is the irflow version written into manifests.
	Irflow string
	// Verify re-hashes every cached artifact before using it; corrupt ones
	// are moved aside and rebuilt. Without it a cache hit checks only that
	// the manifest and every file with its size are there.
	Verify bool
	// Launcher runs each ready stage (default: launch.InProcess, a Go call
	// in this process). The executor keeps the key's lock while it runs.
	Launcher launch.Launcher
	// LogLevel is written into the specs of stages run out of process.
	LogLevel string
}

// State is what happened to a stage.
type State string

const (
	Cached    State = "cached"
	Ran       State = "ran"
	Failed    State = "failed"
	Skipped   State = "skipped"
	Cancelled State = "cancelled"
)

// StageResult is the outcome of one stage.
type StageResult struct {
	Address string             `json:"address"`
	State   State              `json:"state"`
	Key     string             `json:"key,omitempty"`
	Seconds float64            `json:"duration_s"`
	Metrics map[string]float64 `json:"metrics,omitempty"`
	Error   string             `json:"error,omitempty"`
	// Waited is set when another process executed the stage while this
	// run waited for its lock.
	Waited       bool           `json:"waited,omitempty"`
	ObjectDir    string         `json:"object_dir,omitempty"`
	Expectations []ExpectResult `json:"expectations,omitempty"`

	manifest *cache.Manifest
}

// ExpectResult is one checked expectation.
type ExpectResult struct {
	Metric    string   `json:"metric"`
	Condition string   `json:"condition"`
	Value     *float64 `json:"value,omitempty"`
	OK        bool     `json:"ok"`
	// Position is where the expectation is written (file:line:col).
	Position string `json:"position"`
	Note     string `json:"note,omitempty"`
}

// Result is the outcome of a run.
type Result struct {
	Recipe string         `json:"recipe"`
	Stages []*StageResult `json:"stages"`
}

// OK reports whether every stage is cached or ran and every expectation
// holds.
func (r *Result) OK() bool {
	for _, s := range r.Stages {
		if s.State != Cached && s.State != Ran {
			return false
		}
		for _, e := range s.Expectations {
			if !e.OK {
				return false
			}
		}
	}
	return true
}

// Count returns how many stages ended in state.
func (r *Result) Count(state State) int {
	n := 0
	for _, s := range r.Stages {
		if s.State == state {
			n++
		}
	}
	return n
}

type runner struct {
	opts     Options
	plan     *plan.Plan
	progress *progressFactory
	results  map[string]*StageResult
	done     map[string]chan struct{}
	sem      chan struct{}
	cancel   context.CancelFunc
	owner    cache.Owner

	executing atomic.Int32 // stages executing now, for default threads

	refsMu sync.Mutex
	refs   map[string]cache.Ref // finished stages not yet written to refs
}

// Run executes a plan. It returns an error only when the run could not be
// carried out at all; stage failures are in the Result.
func Run(ctx context.Context, p *plan.Plan, opts Options) (*Result, error) {
	if opts.Cache == nil {
		return nil, errors.New("exec: no cache")
	}
	if opts.Files == nil {
		opts.Files = opts.Cache.Digests()
	}
	if opts.Jobs <= 0 {
		opts.Jobs = runtime.NumCPU()
	}
	if opts.Logger == nil {
		opts.Logger = log.New(io.Discard)
	}
	if opts.ProgressOut == nil {
		opts.ProgressOut = os.Stderr
	}
	owner := cache.Owner{PID: os.Getpid(), Host: cache.Host(), Start: time.Now()}
	if opts.Launcher == nil {
		opts.Launcher = launch.InProcess{Owner: owner}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &runner{
		opts:     opts,
		plan:     p,
		progress: &progressFactory{mode: opts.Progress, out: opts.ProgressOut},
		results:  map[string]*StageResult{},
		done:     map[string]chan struct{}{},
		sem:      make(chan struct{}, opts.Jobs),
		cancel:   cancel,
		owner:    owner,
		refs:     map[string]cache.Ref{},
	}
	res := &Result{Recipe: p.Recipe.Path}
	for _, st := range p.Stages {
		sr := &StageResult{Address: st.Address}
		r.results[st.Address] = sr
		r.done[st.Address] = make(chan struct{})
		res.Stages = append(res.Stages, sr)
	}
	stopFlusher := make(chan struct{})
	flusherDone := make(chan struct{})
	go func() {
		defer close(flusherDone)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				r.flushRefs()
			case <-stopFlusher:
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for _, st := range p.Stages {
		wg.Add(1)
		go func(st *recipe.Stage) {
			defer wg.Done()
			defer close(r.done[st.Address])
			r.stage(ctx, st)
		}(st)
	}
	wg.Wait()
	close(stopFlusher)
	<-flusherDone
	r.flushRefs()
	return res, nil
}

// stage runs one stage once its upstream stages are done.
func (r *runner) stage(ctx context.Context, st *recipe.Stage) {
	res := r.results[st.Address]
	logger := r.opts.Logger.With("stage", st.Address)
	for _, up := range st.Upstream() {
		<-r.done[up]
		if u := r.results[up]; u.State != Cached && u.State != Ran {
			res.State, res.Error = Skipped, fmt.Sprintf("upstream %s %s", up, u.State)
			if u.State == Cancelled {
				res.State = Cancelled
			}
			return
		}
	}
	if ctx.Err() != nil {
		res.State, res.Error = Cancelled, "run cancelled"
		return
	}
	digests, _, err := plan.InputDigests(st, func(ref recipe.OutputRef) (string, bool) {
		d, ok := r.results[ref.Address].manifest.Outputs[ref.Output]
		return d, ok
	}, r.opts.Files)
	if err != nil {
		r.fail(res, err)
		return
	}
	parts, err := plan.PartsFor(st, digests)
	if err != nil {
		r.fail(res, err)
		return
	}
	res.Key = parts.Key()
	if m, ok := r.lookup(res.Key, logger); ok {
		logger.Debug("cached", "key", res.Key[:12])
		r.finish(st, res, Cached, m, parts)
		return
	}

	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		res.State, res.Error = Cancelled, "run cancelled"
		return
	}
	defer func() { <-r.sem }()
	owner := r.owner
	owner.Address = st.Address
	lock, err := r.opts.Cache.Lock(ctx, res.Key, owner, func(holder cache.Owner) {
		logger.Info("waiting: another run is executing this stage", "holder", holder.String())
	})
	if err != nil {
		if ctx.Err() != nil {
			res.State, res.Error = Cancelled, "run cancelled"
			return
		}
		r.fail(res, err)
		return
	}
	defer lock.Unlock()
	// Someone else may have committed it while we waited.
	if m, ok := r.lookup(res.Key, logger); ok {
		res.Waited = true
		r.finish(st, res, Cached, m, parts)
		return
	}
	m, err := r.execute(ctx, st, res, digests, parts, logger)
	if err != nil {
		if ctx.Err() != nil {
			res.State, res.Error = Cancelled, err.Error()
			return
		}
		r.fail(res, err)
		return
	}
	r.finish(st, res, Ran, m, parts)
}

// lookup finds a committed artifact, verifying it first with
// Options.Verify.
func (r *runner) lookup(key string, logger *log.Logger) (*cache.Manifest, bool) {
	m, ok := r.opts.Cache.Lookup(key)
	if !ok || !r.opts.Verify {
		return m, ok
	}
	if err := r.opts.Cache.Verify(key); err != nil {
		logger.Warn("cached artifact is corrupt; rebuilding it", "err", err)
		if err := r.opts.Cache.Quarantine(key); err != nil {
			logger.Warn("could not move the corrupt artifact aside", "err", err)
		}
		return nil, false
	}
	return m, true
}

// execute hands the stage to the launcher, which runs it and commits it.
func (r *runner) execute(ctx context.Context, st *recipe.Stage, res *StageResult, digests map[string]string, parts plan.Parts, logger *log.Logger) (*cache.Manifest, error) {
	params, err := r.jobParams(st)
	if err != nil {
		return nil, err
	}
	n := r.executing.Add(1)
	defer r.executing.Add(-1)
	threads := r.opts.Threads
	if threads <= 0 {
		threads = max(1, runtime.NumCPU()/int(n))
	}
	spec := &launch.Spec{
		Schema:     launch.SpecSchema,
		Key:        res.Key,
		Address:    st.Address,
		Recipe:     r.plan.Recipe.Path,
		Block:      st.Kind.Block,
		Method:     st.Kind.Method,
		Version:    st.Kind.Version,
		Params:     params,
		KeyParams:  parts.Params,
		Components: parts.Components,
		Inputs:     digests,
		CacheDir:   r.opts.Cache.Dir,
		Threads:    threads,
		LogLevel:   r.opts.LogLevel,
		Irflow:     r.opts.Irflow,
	}
	if _, inProcess := r.opts.Launcher.(launch.InProcess); !inProcess && r.opts.Threads <= 0 {
		spec.Threads = 0 // the process running it decides (its CPUs, the job's allocation)
	}
	start := time.Now()
	m, err := r.opts.Launcher.Launch(ctx, &launch.Task{
		Spec:      spec,
		Kind:      st.Kind,
		Cache:     r.opts.Cache,
		Logger:    logger,
		Progress:  r.progress.forJob(st.Address, logger),
		Resources: st.Resources,
	})
	res.Seconds = time.Since(start).Seconds()
	if err == nil && m.Seconds > 0 {
		res.Seconds = m.Seconds
	}
	return m, err
}

// jobParams gives the stage its parameters with inputs as absolute paths:
// external files where they are, upstream outputs inside their objects.
func (r *runner) jobParams(st *recipe.Stage) (map[string]any, error) {
	path := func(in recipe.Input) (string, error) {
		if in.From == nil {
			return in.Path, nil
		}
		up := r.results[in.From.Address]
		upStage := r.plan.Recipe.Stage(in.From.Address)
		for _, o := range upStage.Kind.Outputs {
			if o.Name == in.From.Output {
				return filepath.Join(r.opts.Cache.ObjectDir(up.Key), filepath.FromSlash(strings.TrimSuffix(o.Path, "/"))), nil
			}
		}
		return "", fmt.Errorf("%s has no output %s", in.From.Address, in.From.Output)
	}
	params := make(map[string]any, len(st.Params))
	for name, v := range st.Params {
		switch v := v.(type) {
		case recipe.Input:
			p, err := path(v)
			if err != nil {
				return nil, err
			}
			params[name] = p
		case []recipe.Input:
			paths := make([]string, len(v))
			for i, in := range v {
				p, err := path(in)
				if err != nil {
					return nil, err
				}
				paths[i] = p
			}
			params[name] = paths
		default:
			params[name] = v
		}
	}
	return params, nil
}

func (r *runner) fail(res *StageResult, err error) {
	res.State, res.Error = Failed, err.Error()
	r.opts.Logger.Error("failed", "stage", res.Address, "err", err)
	if r.opts.FailFast {
		r.cancel()
	}
}

// finish records a cached or committed artifact: metrics, expectations,
// and the recipe's ref for plan explanations and gc.
func (r *runner) finish(st *recipe.Stage, res *StageResult, state State, m *cache.Manifest, parts plan.Parts) {
	res.State, res.manifest = state, m
	res.Metrics = m.Metrics
	res.ObjectDir = r.opts.Cache.ObjectDir(res.Key)
	for _, e := range st.Expect {
		er := ExpectResult{Metric: e.Metric, Condition: e.Text, Position: position(e.Range.Filename, e.Range.Start.Line, e.Range.Start.Column)}
		if v, ok := m.Metrics[e.Metric]; ok {
			v := v
			er.Value, er.OK = &v, e.Holds(v)
		} else {
			names := make([]string, 0, len(m.Metrics))
			for k := range m.Metrics {
				names = append(names, k)
			}
			sort.Strings(names)
			er.Note = "the stage did not report this metric"
			if len(names) > 0 {
				er.Note += "; it reported " + strings.Join(names, ", ")
			}
		}
		res.Expectations = append(res.Expectations, er)
	}
	r.refsMu.Lock()
	r.refs[st.Address] = cache.Ref{Key: res.Key, Parts: plan.EncodeParts(parts), Time: time.Now().UTC()}
	r.refsMu.Unlock()
}

// flushRefs records the keys of finished stages in the recipe's refs (for
// plan explanations and gc). It is batched: one write per second at most
// rather than one fsync per stage.
func (r *runner) flushRefs() {
	r.refsMu.Lock()
	batch := r.refs
	r.refs = map[string]cache.Ref{}
	r.refsMu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := r.opts.Cache.UpdateRefs(r.plan.Recipe.Path, batch); err != nil {
		r.opts.Logger.Warn("could not record stage keys for plan and gc", "err", err)
	}
}

// position formats file:line:col, with the file relative to the working
// directory when that is shorter.
func position(file string, line, col int) string {
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, file); err == nil && len(rel) < len(file) {
			file = rel
		}
	}
	return fmt.Sprintf("%s:%d:%d", file, line, col)
}
