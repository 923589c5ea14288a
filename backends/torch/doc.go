// Package torch is irflow's only door to libtorch. Model code (encoders,
// heads, losses, training loops) uses this package and never gotch or cgo,
// so the sharp edges of the binding are handled once, here.
//
// # Why it looks the way it does
//
// libtorch keeps grad mode, the last error and OpenMP settings per OS thread,
// while goroutines move between threads. All torch work therefore runs inside
// [Runtime.Do], on worker goroutines locked to their OS threads; the [Scope]
// handed to the callback is the only way to create or transform tensors, so
// it cannot happen elsewhere by accident. Every op returns an error (a shape
// mismatch is an error value, never a process exit), and every tensor an op
// creates belongs to the scope: it is freed when the scope ends unless it was
// kept. Large activations therefore never wait for the garbage collector.
//
// Ops call gotch's generated C API (package libtch) directly, not gotch's ts
// package: that avoids its 100 KB Go object, global lock and leaked
// out-pointer per tensor.
//
// # Building
//
// The real implementation needs the build tag torch (and libtorch, installed
// by ./task setup); `./task build` and `./task test` pass it. Built without
// the tag, the same API exists but [Open] and [Available] return
// [ErrNotBuilt], whose message says which command fixes it. CUDA devices need
// the additional tag cuda.
//
// # Usage
//
//	rt, err := torch.Open(torch.Options{Threads: 2, Seed: 42, SetSeed: true})
//	if err != nil { return err }
//	defer rt.Close()
//
//	var w *torch.Tensor // lives across Do calls: owned by the caller
//	err = rt.Do(ctx, func(s *torch.Scope) error {
//		var err error
//		if w, err = s.Randn(torch.Float32, 4, 3); err != nil {
//			return err
//		}
//		if err = s.SetRequiresGrad(w, true); err != nil {
//			return err
//		}
//		return s.Keep(w) // survive the scope; free later with w.Free()
//	})
//
//	err = rt.Do(ctx, func(s *torch.Scope) error {
//		x, err := s.FromFloat32(data, 2, 4) // freed when the callback returns
//		if err != nil { return err }
//		y, err := s.MatMul(x, w)
//		...
//		return s.Backward(loss)
//	})
//
// # Ownership
//
//   - A tensor returned by a Scope method belongs to that scope and is freed
//     when the scope ends ([Runtime.Do] returns, or a [Scope.Nested] /
//     [Scope.NoGrad] callback returns).
//   - [Scope.Keep] moves a tensor to the enclosing scope; kept in the outermost
//     scope it outlives Do and the caller owns it: free it with [Tensor.Free]
//     (safe from any goroutine) or hand it back with [Scope.Own].
//   - [Scope.Free] frees a scope's tensor early (e.g. inside a long loop).
//   - Using a tensor after it was freed returns an error, never a crash.
//
// # Threads, seeds, devices
//
// [Options].Threads sets libtorch's intra-op thread count on each worker
// (at_set_num_threads); libtorch also keeps it as the default for threads it
// starts later, so it is effectively per process. [Options].Workers > 1 runs
// that many Do callbacks in parallel. [Runtime.ManualSeed] seeds libtorch's
// global generator (at_manual_seed): runs are reproducible with one worker.
// [Options].Device picks CPU or CUDA(i); creation ops place tensors there.
//
// # API summary
//
// Runtime: Open, Close, Do, Device, Threads, ManualSeed, LiveTensors.
// Scope structure: Nested, NoGrad, GradEnabled, Keep, Own, Free, Context, Device.
// Creation: FromFloat32, FromInt64, FromBytes, Zeros, Ones, Full, Rand, Randn,
// Arange. Reading: Float32s, Int64s, Bytes, Item; Tensor.Shape, Dim, Numel,
// DType, Device, RequiresGrad.
// Element-wise: Add, Sub, Mul, Div, AddScalar, MulScalar, PowScalar, Neg, Exp,
// Log, Log1p, Sqrt, Tanh, ReLU, GELU (erf form), Sigmoid, EqScalar, Minimum,
// ClampMax, MaskedFill.
// Linear algebra and layers: MatMul, Linear, Embedding, LayerNorm, Dropout,
// Softmax, LogSoftmax.
// Reductions: Sum, Mean, Max (over dims, keepdim), SumAll, MeanAll, LogSumExp.
// Shape and type: Reshape, View, Transpose, Permute, Contiguous, Unsqueeze,
// Squeeze, Narrow, Select, Cat, Stack, Gather, IndexSelect, ToDType, To,
// Detach, Clone.
// Losses: CrossEntropy, MarginRanking, BCEWithLogits.
// Autograd: SetRequiresGrad, Backward, Grad, ZeroGrad, ClipGradNorm.
// Optimiser: NewAdamW → AdamW.Step, ZeroGrad, SetLR, Close.
// Process information: Available, Version, LibraryDir, CUDABuilt,
// CUDADeviceCount. Types: Device (CPU, CUDA, ParseDevice), DType (ParseDType
// reads safetensors names), Options, AdamWOptions, Reduction.
package torch

// The stub for builds without the torch tag is generated from the tagged files.
//go:generate go run ./internal/stubgen/gen
