package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// The CUDA C kernels themselves, run on the CPU by testdata/emulate.cpp
// (one OS thread per CUDA thread, a barrier for __syncthreads, blocks in
// sequence), against the Go references: this checks the kernels' tiling,
// indexing and synchronisation where no GPU is lent. The GPU tests
// (gpu_test.go) check the same on the device.

var emulator struct {
	once sync.Once
	path string
	err  error
}

// emulate builds testdata/emulate.cpp with g++ once per test binary.
func emulate(t *testing.T) string {
	t.Helper()
	src := filepath.Join("testdata", "emulate.cpp")
	if _, err := os.Stat(src); err != nil {
		t.Skipf("no %s (a test binary run outside its package directory)", src)
	}
	gxx, err := exec.LookPath("g++")
	if err != nil {
		t.Skip("no g++ to build the kernel emulator")
	}
	emulator.once.Do(func() {
		dir, err := os.MkdirTemp("", "irflow-emulate")
		if err != nil {
			emulator.err = err
			return
		}
		emulator.path = filepath.Join(dir, "emulate")
		out, err := exec.Command(gxx, "-std=c++20", "-O1", "-pthread", "-w", "-o", emulator.path, src).CombinedOutput()
		if err != nil {
			emulator.err = fmt.Errorf("g++: %v\n%s", err, out)
		}
	})
	if emulator.err != nil {
		t.Fatalf("building the emulator: %v", emulator.err)
	}
	return emulator.path
}

// runEmulator writes in (little-endian values), runs the emulator's mode
// and returns its output file's bytes.
func runEmulator(t *testing.T, mode string, in []any) []byte {
	bin := emulate(t)
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "in"))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range in {
		if err := binary.Write(f, binary.LittleEndian, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, mode, filepath.Join(dir, "in"), filepath.Join(dir, "out")).CombinedOutput(); err != nil {
		t.Fatalf("emulate %s: %v\n%s", mode, err, out)
	}
	out, err := os.ReadFile(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPoolEmulated(t *testing.T) {
	for _, c := range poolCases() {
		t.Run(c.name, func(t *testing.T) {
			h, w, b, m := c.data()
			sum, hasBias := int64(0), int64(0)
			if c.opts.Sum {
				sum = 1
			}
			if b != nil {
				hasBias = 1
			}
			in := []any{int64(c.B), int64(c.L), int64(c.D), int64(c.V), hasBias, sum, int64(c.opts.Sparsification), h, w}
			if b != nil {
				in = append(in, b)
			}
			in = append(in, m)
			raw := runEmulator(t, "splade", in)
			if len(raw) != 4*c.B*c.V {
				t.Fatalf("%d bytes of output, want %d", len(raw), 4*c.B*c.V)
			}
			got := make([]float32, c.B*c.V)
			for i := range got {
				got[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
			want, err := PoolReference(h, c.B, c.L, c.D, w, c.V, b, m, c.opts)
			if err != nil {
				t.Fatal(err)
			}
			worst, bad := 0.0, 0
			for i := range want {
				g, w := float64(got[i]), float64(want[i])
				if !closeTo(g, w) {
					if bad++; bad < 5 {
						t.Errorf("out[%d,%d] = %v, reference %v", i/c.V, i%c.V, g, w)
					}
				} else if !math.IsInf(w, 0) {
					worst = max(worst, math.Abs(g-w)/math.Max(1, math.Abs(w)))
				}
			}
			if bad > 0 {
				t.Fatalf("%d of %d values differ", bad, len(want))
			}
			t.Logf("max relative difference to the Go reference %.2g", worst)
		})
	}
}

func TestTopKEmulated(t *testing.T) {
	for _, c := range []topkCase{
		{name: "continuous", queries: 3, n: 1500, k: 10, blocks: []int{700}},
		{name: "ties", queries: 2, n: 800, k: 50, blocks: []int{256}, levels: 7},
		{name: "k larger than a block", queries: 2, n: 400, k: 150, blocks: []int{64, 17, 100}},
		{name: "k larger than the corpus", queries: 2, n: 90, k: 100, blocks: []int{32}},
		{name: "blocks larger than a chunk", queries: 2, n: 3000, k: 1024, blocks: []int{2500, 500}, levels: 50},
		{name: "NaN and -Inf", queries: 2, n: 700, k: 40, blocks: []int{333}, nanEvery: 5, infEvery: 7},
		{name: "all ties", queries: 1, n: 2100, k: 1000, blocks: []int{1500}, levels: 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			scores := c.scores()
			r, err := NewTopKReference(c.queries, c.k)
			if err != nil {
				t.Fatal(err)
			}
			var launches []any
			n := 0
			err = c.eachBlock(scores, func(blk []float32, nb, d0 int) error {
				launches = append(launches, int64(nb), int64(d0), slices.Clone(blk))
				n++
				return r.Add(blk, nb, int64(d0))
			})
			if err != nil {
				t.Fatal(err)
			}
			raw := runEmulator(t, "topk", append([]any{int64(c.queries), int64(c.k), int64(n)}, launches...))
			if want := c.queries*4 + c.queries*c.k*12; len(raw) != want {
				t.Fatalf("%d bytes of output, want %d", len(raw), want)
			}
			counts := raw[:4*c.queries]
			vals := raw[4*c.queries : 4*c.queries+4*c.queries*c.k]
			ids := raw[4*c.queries+4*c.queries*c.k:]
			want := r.Results()
			for q := range want {
				got := make([]Hit, binary.LittleEndian.Uint32(counts[4*q:]))
				for i := range got {
					j := q*c.k + i
					got[i] = Hit{Doc: int64(binary.LittleEndian.Uint64(ids[8*j:])), Score: math.Float32frombits(binary.LittleEndian.Uint32(vals[4*j:]))}
				}
				if !slices.Equal(got, want[q]) {
					t.Fatalf("query %d: kernel %d hits %v…, reference %d %v…", q, len(got), head(got), len(want[q]), head(want[q]))
				}
			}
		})
	}
}
