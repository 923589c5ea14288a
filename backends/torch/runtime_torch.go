//go:build torch

package torch

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Runtime runs torch work on OS-thread-locked worker goroutines.
// Its methods are safe for concurrent use.
type Runtime struct {
	opts    Options
	device  Device
	jobs    chan job
	mu      sync.RWMutex // Close waits for Do calls in flight
	closed  bool
	workers sync.WaitGroup
	threads atomic.Int64
	live    atomic.Int64
}

type job struct {
	ctx  context.Context
	fn   func(*Scope) error
	done chan result
}

type result struct {
	err   error
	panic *WorkerPanic
}

// Available reports whether libtorch is linked in (always nil in this build).
func Available() error { return nil }

// Open starts a runtime's workers. Close it to stop them.
func Open(opts Options) (*Runtime, error) {
	if opts.Workers <= 0 {
		opts.Workers = 1
	}
	if opts.Threads < 0 {
		return nil, fmt.Errorf("torch: Threads must be >= 0, got %d", opts.Threads)
	}
	if err := checkDevice(opts.Device); err != nil {
		return nil, err
	}
	r := &Runtime{opts: opts, device: opts.Device, jobs: make(chan job)}
	if opts.SetSeed {
		cManualSeed(opts.Seed)
	}
	started := make(chan struct{}, opts.Workers)
	r.workers.Add(opts.Workers)
	for i := 0; i < opts.Workers; i++ {
		go r.work(started)
	}
	for i := 0; i < opts.Workers; i++ {
		<-started
	}
	return r, nil
}

// work is one worker: it never unlocks its thread, so when it returns the
// thread (and libtorch's thread-local state on it) goes away.
func (r *Runtime) work(started chan<- struct{}) {
	runtime.LockOSThread()
	defer r.workers.Done()
	if r.opts.Threads > 0 {
		cSetNumThreads(r.opts.Threads)
	}
	r.threads.Store(int64(cGetNumThreads()))
	out := newOutBuf()
	defer out.free()
	started <- struct{}{}
	for j := range r.jobs {
		j.done <- r.run(j, out)
	}
}

func (r *Runtime) run(j job, out outBuf) (res result) {
	if err := j.ctx.Err(); err != nil {
		return result{err: err}
	}
	s := &Scope{rt: r, out: out, ctx: j.ctx}
	cGradSetEnabled(true) // every callback starts like a fresh PyTorch thread
	_ = lastError()       // and with no stale error
	defer func() {
		if p := recover(); p != nil {
			res = result{panic: &WorkerPanic{Value: p, Stack: debug.Stack()}}
		}
		s.close()
		cGradSetEnabled(true)
	}()
	return result{err: j.fn(s)}
}

// Do runs fn on a worker and waits for it. Tensors fn creates are freed
// when it returns unless kept (see Scope.Keep). Do must not be called from
// inside fn (use Scope.Nested); a panic in fn is raised again here as a
// *WorkerPanic.
func (r *Runtime) Do(ctx context.Context, fn func(s *Scope) error) error {
	if ctx == nil {
		ctx = context.Background()
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err // select below would pick an idle worker half of the time
	}
	j := job{ctx: ctx, fn: fn, done: make(chan result, 1)}
	select {
	case r.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	}
	res := <-j.done
	if res.panic != nil {
		panic(res.panic)
	}
	return res.err
}

// Close stops the workers after the Do calls in flight. Tensors the caller
// still owns stay valid and can still be freed.
func (r *Runtime) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	close(r.jobs)
	r.workers.Wait()
	return nil
}

// Device is where creation ops place tensors.
func (r *Runtime) Device() Device { return r.device }

// Threads is libtorch's intra-op thread count as a worker reported it.
func (r *Runtime) Threads() int { return int(r.threads.Load()) }

// ManualSeed seeds libtorch's global random generator (CPU and CUDA).
func (r *Runtime) ManualSeed(seed int64) { cManualSeed(seed) }

// LiveTensors counts tensors created through this runtime and not yet
// freed: a leak check for tests and long runs.
func (r *Runtime) LiveTensors() int64 { return r.live.Load() }
