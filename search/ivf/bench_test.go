package ivf_test

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"testing"

	"github.com/irflow/irflow/index/dense/densetest"
	ivfx "github.com/irflow/irflow/index/ivf"
	"github.com/irflow/irflow/search/ivf"
)

// BenchmarkADC times IVF-PQ search by asymmetric distance computation
// (no re-scoring) on a 20,000 × 384 Gaussian mixture (MiniLM's width),
// 64 lists, m 48, one thread, 100 queries per iteration; -v logs a digest
// of every hit's id and score bits, so a change to the scan can be checked
// to leave results bit for bit unchanged.
func BenchmarkADC(b *testing.B) {
	const n, d, nq = 20000, 384, 100
	x := densetest.Clustered(21, n, d, 50, 0.9)
	q := densetest.Clustered(22, nq, d, 50, 0.9)
	full := densetest.Write(b, filepath.Join(b.TempDir(), "dense"), x, d, "dot")
	ix := build(b, filepath.Join(b.TempDir(), "ivfpq"), full, ivfx.Options{Method: "ivfpq", NLists: 64, M: 48, TrainSize: 5000, Seed: 1, Iterations: 10})
	for _, np := range []int{4, 16} {
		b.Run(fmt.Sprintf("nprobe=%d", np), func(b *testing.B) {
			o := ivf.Options{K: 10, NProbe: np, Threads: 1}
			h := sha256.New()
			for _, hits := range search(b, ix, q, o) {
				for _, x := range hits {
					h.Write(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, uint64(x.Doc)), math.Float64bits(float64(x.Score))))
				}
			}
			b.Logf("hits digest %x", h.Sum(nil)[:8])
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				search(b, ix, q, o)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*nq), "µs/query")
		})
	}
}
