package statefile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/irflow/irflow/models/hf"
)

func TestRoundTripAndDamage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.safetensors")
	in := []*hf.Tensor{
		{Name: "w", Shape: []int{2, 2}, DType: "F32", F32: []float32{1, -2, 3.5, 0}},
		{Name: "step/w", Shape: []int{1}, DType: "I64", I64: []int64{7}},
	}
	if err := Write(path, in, map[string]string{"kind": "test"}); err != nil {
		t.Fatal(err)
	}
	got, meta, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if meta["kind"] != "test" || got["w"].F32[2] != 3.5 || got["step/w"].I64[0] != 7 {
		t.Fatalf("round trip: %v %v %v", meta, got["w"].F32, got["step/w"].I64)
	}
	b, _ := os.ReadFile(path)
	cases := map[string][]byte{
		"flipped value": func() []byte { c := append([]byte{}, b...); c[len(c)-9] ^= 1; return c }(),
		"truncated":     b[:len(b)-4],
		"no header":     b[:5],
	}
	for name, data := range cases {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := Read(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A plain safetensors file (no digest) is not training state.
	plain := filepath.Join(dir, "plain")
	if err := hf.WriteSafetensors(plain, in, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Read(plain); err == nil {
		t.Error("file without digest accepted")
	}
}
