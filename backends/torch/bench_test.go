//go:build torch

package torch

import (
	"context"
	"testing"
)

// benchDo runs body b.N times inside one Do callback, freeing its results.
func benchDo(b *testing.B, threads int, setup func(s *Scope) ([]*Tensor, error), body func(s *Scope, in []*Tensor) (*Tensor, error)) {
	rt, err := Open(Options{Threads: threads})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	err = rt.Do(context.Background(), func(s *Scope) error {
		in, err := setup(s)
		if err != nil {
			return err
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			out, err := body(s, in)
			if err != nil {
				return err
			}
			out.Free()
		}
		b.StopTimer()
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkOpOverhead is the cost of one tiny op through this package: the
// Go↔C call, error check and tensor bookkeeping (gotch's ts package spends
// ~17–20 µs per tensor here).
func BenchmarkOpOverhead(b *testing.B) {
	benchDo(b, 1, func(s *Scope) ([]*Tensor, error) {
		x, err := s.Ones(Float32, 4)
		if err != nil {
			return nil, err
		}
		y, err := s.Ones(Float32, 4)
		return []*Tensor{x, y}, err
	}, func(s *Scope, in []*Tensor) (*Tensor, error) { return s.Add(in[0], in[1]) })
}

// BenchmarkLinearBERTBase is one BERT-base projection: [32·128, 768] × [768, 768]ᵀ + b.
func BenchmarkLinearBERTBase(b *testing.B) {
	benchDo(b, 0, func(s *Scope) ([]*Tensor, error) {
		x, err := s.Randn(Float32, 32*128, 768)
		if err != nil {
			return nil, err
		}
		w, err := s.Randn(Float32, 768, 768)
		if err != nil {
			return nil, err
		}
		bias, err := s.Randn(Float32, 768)
		return []*Tensor{x, w, bias}, err
	}, func(s *Scope, in []*Tensor) (*Tensor, error) { return s.Linear(in[0], in[1], in[2]) })
}

// BenchmarkDoRoundTrip is the cost of handing work to a locked worker.
func BenchmarkDoRoundTrip(b *testing.B) {
	rt, err := Open(Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer rt.Close()
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := rt.Do(ctx, func(*Scope) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
