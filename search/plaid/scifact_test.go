package plaid_test

import (
	"bufio"
	"context"
	"encoding/gob"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/irflow/irflow/index/multivector"
	plaidx "github.com/irflow/irflow/index/plaid"
	"github.com/irflow/irflow/search/plaid"
)

// querySet is what scripts/bench/plaidbench/encodeq writes (gob).
type querySet struct {
	Dim     int
	IDs     []string
	Vectors [][]float32
	Mask    [][]bool
}

// TestCachedIndex searches a PLAID index a recipe built (the index
// stage's output directory: plaid/ and data/) with query vectors encodeq
// wrote, at the points in IRFLOW_PLAID_POINTS (n_cells:candidate_k[:r],
// r = rescore), and logs the CPU time per query; with IRFLOW_PLAID_RUN_<i>
// (the i-th point's run.trec from the recipe's search stage) it checks
// that every hit and score is the run's. Skipped unless IRFLOW_PLAID_INDEX
// and IRFLOW_PLAID_QUERIES are set: a measurement, not part of the suite.
//
//	IRFLOW_PLAID_INDEX=.irflow/objects/…/index IRFLOW_PLAID_QUERIES=q.gob IRFLOW_PLAID_POINTS=1:256,4:4096 \
//	    go test -run TestCachedIndex -v ./search/plaid/ [-cpuprofile cpu.out]
func TestCachedIndex(t *testing.T) {
	dir, qfile := os.Getenv("IRFLOW_PLAID_INDEX"), os.Getenv("IRFLOW_PLAID_QUERIES")
	if dir == "" || qfile == "" {
		t.Skip("IRFLOW_PLAID_INDEX and IRFLOW_PLAID_QUERIES not set")
	}
	full, err := multivector.Open(filepath.Join(dir, "data"))
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	ix, err := plaidx.Open(filepath.Join(dir, "plaid"), full)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	f, err := os.Open(qfile)
	if err != nil {
		t.Fatal(err)
	}
	var set querySet
	err = gob.NewDecoder(f).Decode(&set)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	nq := len(set.IDs)
	if s := os.Getenv("IRFLOW_PLAID_NQ"); s != "" {
		nq, _ = strconv.Atoi(s)
	}
	qs := make([]plaid.Query, nq)
	for i := range qs {
		qs[i] = plaid.Query{Vectors: set.Vectors[i], Mask: set.Mask[i]}
	}
	threads := 1
	if s := os.Getenv("IRFLOW_PLAID_THREADS"); s != "" {
		threads, _ = strconv.Atoi(s)
	}
	for pi, p := range strings.Split(os.Getenv("IRFLOW_PLAID_POINTS"), ",") {
		f := strings.Split(p, ":")
		cells, _ := strconv.Atoi(f[0])
		cands, _ := strconv.Atoi(f[1])
		o := plaid.Options{K: 100, NCells: cells, CandidateK: max(cands, 100), CentroidScoreThreshold: 0.5,
			Rescore: len(f) > 2 && f[2] == "r", Threads: threads}
		c0, t0 := cpuSeconds(), time.Now()
		hits, err := plaid.SearchAll(context.Background(), ix, qs, o)
		if err != nil {
			t.Fatal(err)
		}
		cpu, wall := cpuSeconds()-c0, time.Since(t0).Seconds()
		t.Logf("%s: %d queries, %.1f CPU ms/query, %.1f wall ms/query", p, nq, 1e3*cpu/float64(nq), 1e3*wall/float64(nq))
		run := os.Getenv("IRFLOW_PLAID_RUN_" + strconv.Itoa(pi))
		if run == "" {
			continue
		}
		want := readRun(t, run)
		diff := 0
		for qi, hs := range hits {
			w := want[set.IDs[qi]]
			if len(w) != len(hs) {
				t.Errorf("%s: query %s: %d hits, the run has %d", p, set.IDs[qi], len(hs), len(w))
				continue
			}
			for r, h := range hs {
				// The run holds float64 scores as strconv 'g' -1 of float32-exact values.
				if h.ID != w[r].id || strconv.FormatFloat(h.Score, 'g', -1, 64) != w[r].score {
					diff++
					if diff <= 5 {
						t.Errorf("%s: query %s rank %d: %s %v, the run has %s %s", p, set.IDs[qi], r+1, h.ID, h.Score, w[r].id, w[r].score)
					}
				}
			}
		}
		if diff > 0 {
			t.Errorf("%s: %d hits differ from %s", p, diff, run)
		} else {
			t.Logf("%s: every hit and score of %d queries is %s's", p, nq, run)
		}
	}
}

type runHit struct{ id, score string }

func readRun(t *testing.T, path string) map[string][]runHit {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]runHit{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) == 6 {
			out[fs[0]] = append(out[fs[0]], runHit{fs[2], fs[4]})
		}
	}
	return out
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
