package hf

import (
	"math"
	"path/filepath"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
)

// TestWeightsMatchPyTorch loads every tiny model variant (safetensors and
// pytorch_model.bin; fp32, fp16, bf16) and compares each tensor with what
// PyTorch reads from the same file: exact values for the first 64
// elements (conversion to fp32 is exact) and the sum of all of them.
func TestWeightsMatchPyTorch(t *testing.T) {
	root := oracle.TinyModels(t)
	var dirs []string
	for _, arch := range []string{"bert", "electra", "distilbert"} {
		for _, variant := range []string{"", "-bin", "-fp16", "-bf16-bin"} {
			dirs = append(dirs, filepath.Join(root, arch+variant))
		}
	}
	var refs map[string]map[string]struct {
		Shape []int
		Dtype string
		Head  []float64
		Sum   float64
	}
	oracle.Run(t, &refs, "tensors.py", dirs...)
	for _, dir := range dirs {
		{
			t.Run(filepath.Base(dir), func(t *testing.T) {
				w, err := LoadWeights(dir)
				if err != nil {
					t.Fatal(err)
				}
				ref := refs[dir]
				if len(ref) != len(w.Names()) {
					t.Errorf("%d tensors, PyTorch has %d", len(w.Names()), len(ref))
				}
				for tn, r := range ref {
					got := w.Lookup(tn)
					if got == nil {
						t.Errorf("tensor %s missing", tn)
						continue
					}
					if !shapeMatches(got.Shape, r.Shape) {
						t.Errorf("%s: shape %v, want %v", tn, got.Shape, r.Shape)
						continue
					}
					var sum float64
					for i := 0; i < got.NumElements(); i++ {
						var v float64
						if got.F32 != nil {
							v = float64(got.F32[i])
						} else {
							v = float64(got.I64[i])
						}
						if i < len(r.Head) && float32(v) != float32(r.Head[i]) {
							t.Errorf("%s[%d] = %g, PyTorch %g", tn, i, v, r.Head[i])
							break
						}
						sum += v
					}
					if math.Abs(sum-r.Sum) > 1e-9*math.Max(1, math.Abs(r.Sum))+1e-9 {
						t.Errorf("%s: sum %.12g, PyTorch %.12g", tn, sum, r.Sum)
					}
				}
			})
		}
	}
}

// TestWriteSafetensorsRoundTrip writes tensors and reads them back with
// both irflow and PyTorch's safetensors.
func TestWriteSafetensorsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	in := []*Tensor{
		{Name: "b.weight", Shape: []int{2, 3}, F32: []float32{1, -2, 3.5, 3e38, 1e-30, -0}},
		{Name: "a.ids", Shape: []int{4}, I64: []int64{0, 1, -7, 1 << 40}},
		{Name: "scalar", Shape: []int{}, F32: []float32{42}},
	}
	p := filepath.Join(dir, SafetensorsFile)
	if err := WriteSafetensors(p, in, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	back, err := ReadSafetensors(p)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]*Tensor{}
	for _, x := range back {
		got[x.Name] = x
	}
	var refs map[string]map[string]struct {
		Shape []int
		Dtype string
		Head  []float64
	}
	oracle.Run(t, &refs, "tensors.py", dir)
	ref := refs[dir]
	for _, want := range in {
		g, r := got[want.Name], ref[want.Name]
		if g == nil || !shapeMatches(g.Shape, want.Shape) || !shapeMatches(r.Shape, want.Shape) {
			t.Fatalf("%s: irflow %+v, PyTorch shape %v", want.Name, g, r.Shape)
		}
		for i := 0; i < want.NumElements(); i++ {
			var w float64
			if want.F32 != nil {
				w = float64(want.F32[i])
				if g.F32[i] != want.F32[i] {
					t.Errorf("%s[%d]: read back %g, wrote %g", want.Name, i, g.F32[i], want.F32[i])
				}
			} else {
				w = float64(want.I64[i])
				if g.I64[i] != want.I64[i] {
					t.Errorf("%s[%d]: read back %d, wrote %d", want.Name, i, g.I64[i], want.I64[i])
				}
			}
			if r.Head[i] != w {
				t.Errorf("%s[%d]: PyTorch read %g, wrote %g", want.Name, i, r.Head[i], w)
			}
		}
	}
}
