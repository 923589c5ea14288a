// Command plaidbench measures irflow's PLAID index (index/plaid,
// search/plaid) against fast-plaid (PyPI fast-plaid 1.7.0.2110, the
// engine behind Lightning IR's PLAID backend) on the same token vectors,
// with the same number of centroids, n_bits, k-means iterations and
// threads: build time, then at each operating point the CPU time and wall
// time per query and recall@k against exact MaxSim (search/multivector).
//
//	go run ./scripts/bench/plaidbench -docs 5000 -queries 200 [-dim 128] [-topics 2000] [-nbits 2] [-threads 1]
//	    [-points 1:64,2:256,4:1024] [-threshold 0.5[,t2…]] [-k 10] [-centroids N]
//
// The collection is synthetic (index/plaid/plaidtest: documents of 4–24
// unit token vectors around three of -topics centres, 8-vector queries
// around one document's topics), written as .npy under bench-out/plaidbench
// (git-ignored) for fast-plaid, which runs afterwards as a subprocess
// (fastplaid_run.py with .cache/venv-torch's python and PYTHONPATH
// .cache/fastplaid-site: scripts/bench/plaidbench/setup-fastplaid.sh). A
// point n:c is n_cells n and candidate_k c for irflow, n_ivf_probe n and
// n_full_scores c for fast-plaid (which has no centroid_score_threshold
// parameter). Both engines train the same number of centroids: -centroids,
// or else fast-plaid's ColBERT rule, which irflow then follows.
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/irflow/irflow/index/multivector"
	plaidx "github.com/irflow/irflow/index/plaid"
	"github.com/irflow/irflow/index/plaid/plaidtest"
	"github.com/irflow/irflow/scripts/bench/internal/benchproc"
	"github.com/irflow/irflow/scripts/bench/internal/qpsplot"
	multis "github.com/irflow/irflow/search/multivector"
	"github.com/irflow/irflow/search/plaid"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "plaidbench:", err)
		os.Exit(1)
	}
}

type point struct{ cells, cands int }

func run() error {
	nd := flag.Int("docs", 5000, "documents")
	nq := flag.Int("queries", 200, "queries")
	dim := flag.Int("dim", 128, "dimension")
	topics := flag.Int("topics", 2000, "topic centres")
	nbits := flag.Int("nbits", 2, "bits per residual dimension")
	threads := flag.Int("threads", 1, "threads of both engines")
	pts := flag.String("points", "1:64,2:256,4:1024", "operating points n_cells:candidate_k")
	thrs := flag.String("threshold", "0.5", "irflow's centroid_score_threshold: a comma-separated list, one series each")
	k := flag.Int("k", 10, "hits per query")
	skipAnchor := flag.Bool("irflow-only", false, "do not run fast-plaid")
	nc := flag.Int("centroids", 0, "centroids of both engines (0: fast-plaid's ColBERT rule, which irflow then follows)")
	flag.Parse()
	fmt.Printf("# plaidbench %s; commit %s; %s UTC; load %s\n", strings.Join(os.Args[1:], " "), gitHead(),
		time.Now().UTC().Format("2006-01-02 15:04"), benchproc.LoadAverage())
	var thresholds []float64
	for _, f := range strings.Split(*thrs, ",") {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return fmt.Errorf("-threshold: %q is not a number", f)
		}
		thresholds = append(thresholds, v)
	}
	var points []point
	for _, p := range strings.Split(*pts, ",") {
		a, b, ok := strings.Cut(p, ":")
		c, err1 := strconv.Atoi(a)
		n, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil {
			return fmt.Errorf("-points: %q is not n_cells:candidate_k", p)
		}
		points = append(points, point{c, n})
	}
	out := filepath.Join("bench-out", "plaidbench", fmt.Sprintf("syn-%dx%d-%d", *nd, *dim, *topics))
	os.RemoveAll(out)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	ctx := context.Background()
	col := plaidtest.Make(1, *nd, *nq, *dim, *topics)

	// Exact index and the exact top-k.
	mvDir := filepath.Join(out, "multivector")
	w, err := multivector.Create(mvDir, multivector.Options{Dim: *dim})
	if err != nil {
		return err
	}
	var flat []float32
	lens := make([]int64, len(col.Docs))
	for i, d := range col.Docs {
		if err := w.Add(fmt.Sprintf("d%d", i), d); err != nil {
			return err
		}
		flat = append(flat, d...)
		lens[i] = int64(len(d) / *dim)
	}
	if _, err := w.Close(); err != nil {
		return err
	}
	src, err := multivector.Open(mvDir)
	if err != nil {
		return err
	}
	defer src.Close()
	qs := make([]plaid.Query, len(col.Queries))
	var qflat []float32
	for i, v := range col.Queries {
		qs[i] = plaid.Query{Vectors: v}
		qflat = append(qflat, v...)
	}
	exact, err := multis.SearchAll(ctx, src, qs, multis.Options{K: *k, Threads: *threads})
	if err != nil {
		return err
	}
	truth := make([][]int, len(exact))
	for i, hs := range exact {
		for _, h := range hs {
			truth[i] = append(truth[i], h.Doc)
		}
	}
	fmt.Printf("collection: %d documents, %d token vectors of %d dimensions, %d queries of 8 vectors; threads %d; load %s\n",
		*nd, src.NumTokens(), *dim, *nq, *threads, benchproc.LoadAverage())

	// fast-plaid first: its centroid count (ColBERT's rule on its sample)
	// is then irflow's.
	centroids := *nc
	var anchor *anchorResult
	if !*skipAnchor {
		if err := writeNpyF32(filepath.Join(out, "docs.npy"), flat, []int{len(flat) / *dim, *dim}); err != nil {
			return err
		}
		if err := writeNpyF32(filepath.Join(out, "queries.npy"), qflat, []int{*nq, 8, *dim}); err != nil {
			return err
		}
		if err := writeNpyI64(filepath.Join(out, "doclens.npy"), lens); err != nil {
			return err
		}
		if anchor, err = runAnchor(out, *nbits, *threads, *k, *pts, centroids); err != nil {
			return err
		}
		centroids = anchor.Centroids
	}

	c0, t0 := benchproc.CPUSeconds(), time.Now()
	if _, err := plaidx.Build(ctx, filepath.Join(out, "plaid"), src, plaidx.Options{NumCentroids: centroids, NBits: *nbits, Seed: 42, Threads: *threads}); err != nil {
		return err
	}
	bw, bc := time.Since(t0).Seconds(), benchproc.CPUSeconds()-c0
	ix, err := plaidx.Open(filepath.Join(out, "plaid"), src)
	if err != nil {
		return err
	}
	defer ix.Close()
	fmt.Printf("build: irflow %d centroids, %.2f s wall, %.2f s CPU", ix.Meta().NumCentroids, bw, bc)
	if anchor != nil {
		fmt.Printf("; fast-plaid %d centroids, %.2f s wall, %.2f s CPU", anchor.Centroids, anchor.BuildWall, anchor.BuildCPU)
	}
	fmt.Println()
	mine := make([]qpsplot.Series, len(thresholds))
	for ti, thr := range thresholds {
		mine[ti].Name = fmt.Sprintf("irflow plaid (threshold %g)", thr)
	}
	theirs := qpsplot.Series{Name: "fast-plaid", Dashed: true}
	fmt.Println("| engine | n_cells / n_ivf_probe | candidate_k / n_full_scores | recall@k | CPU ms/query | wall ms/query |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: |")
	for pi, p := range points {
		label := fmt.Sprintf("%d:%d", p.cells, p.cands)
		for ti, thr := range thresholds {
			o := plaid.Options{K: *k, NCells: min(p.cells, ix.Meta().NumCentroids), CentroidScoreThreshold: thr, CandidateK: max(p.cands, *k), Threads: *threads}
			var hits [][]plaid.Hit
			var cpu, wall float64
			for pass := 0; pass < 2; pass++ { // the first warms caches
				c0, t0 := benchproc.CPUSeconds(), time.Now()
				if hits, err = plaid.SearchAll(ctx, ix, qs, o); err != nil {
					return err
				}
				wall, cpu = time.Since(t0).Seconds(), benchproc.CPUSeconds()-c0
			}
			got := make([][]int, len(hits))
			for i, hs := range hits {
				for _, h := range hs {
					got[i] = append(got[i], h.Doc)
				}
			}
			r := recall(got, truth)
			fmt.Printf("| irflow (threshold %g) | %d | %d | %.3f | %.3f | %.3f |\n", thr, p.cells, p.cands, r, 1e3*cpu/float64(*nq), 1e3*wall/float64(*nq))
			mine[ti].Points = append(mine[ti].Points, qpsplot.Point{Recall: r, QPS: float64(*nq) / cpu, Label: label})
		}
		if anchor != nil {
			a := anchor.Points[pi]
			r := recall(a.Hits, truth)
			fmt.Printf("| fast-plaid | %d | %d | %.3f | %.3f | %.3f |\n", p.cells, p.cands, r, 1e3*a.CPU/float64(*nq), 1e3*a.Wall/float64(*nq))
			theirs.Points = append(theirs.Points, qpsplot.Point{Recall: r, QPS: float64(*nq) / a.CPU, Label: label})
		}
	}
	series := mine
	if anchor != nil {
		series = append(series, theirs)
	}
	svg := filepath.Join(out, "qps-recall.svg")
	fmt.Println("picture:", svg)
	return qpsplot.Write(svg, fmt.Sprintf("PLAID, %d documents, %d threads (n_cells:candidate_k)", *nd, *threads),
		fmt.Sprintf("recall@%d against exact MaxSim", *k), "queries per CPU second", series)
}

func recall(got, truth [][]int) float64 {
	var hit, all int
	for i, t := range truth {
		in := map[int]bool{}
		for _, d := range t {
			in[d] = true
		}
		for _, d := range got[i] {
			if in[d] {
				hit++
			}
		}
		all += len(t)
	}
	return float64(hit) / float64(max(all, 1))
}

type anchorResult struct {
	Centroids int     `json:"centroids"`
	BuildWall float64 `json:"build_wall"`
	BuildCPU  float64 `json:"build_cpu"`
	Points    []struct {
		Wall float64 `json:"wall"`
		CPU  float64 `json:"cpu"`
		Hits [][]int `json:"hits"`
	} `json:"points"`
}

func runAnchor(dir string, nbits, threads, k int, points string, centroids int) (*anchorResult, error) {
	py := filepath.Join(".cache", "venv-torch", "bin", "python")
	site := filepath.Join(".cache", "fastplaid-site")
	if _, err := os.Stat(site); err != nil {
		return nil, fmt.Errorf("%s is missing: run bash scripts/bench/plaidbench/setup-fastplaid.sh (or -irflow-only)", site)
	}
	cmd := exec.Command(py, filepath.Join("scripts", "bench", "plaidbench", "fastplaid_run.py"), "--dir", dir,
		"--nbits", fmt.Sprint(nbits), "--threads", fmt.Sprint(threads), "--k", fmt.Sprint(k), "--points", points, "--centroids", fmt.Sprint(centroids))
	cmd.Env = append(os.Environ(), "PYTHONPATH="+site, "OMP_WAIT_POLICY=PASSIVE", fmt.Sprintf("OMP_NUM_THREADS=%d", threads))
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("fast-plaid: %w", err)
	}
	var r anchorResult
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("fast-plaid output: %w", err)
	}
	return &r, nil
}

// gitHead is the working tree's commit (with "+changes" when it differs
// from it), for the log's first line.
func gitHead() string {
	b, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	h := strings.TrimSpace(string(b))
	if exec.Command("git", "diff", "--quiet", "HEAD", "--", "index/plaid", "search/plaid", "scripts/bench/plaidbench").Run() != nil {
		h += "+changes to plaid"
	}
	return h
}

// writeNpyF32 and writeNpyI64 write C-order little-endian .npy files
// (numpy's format 1.0).
func writeNpyF32(path string, v []float32, shape []int) error {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return writeNpy(path, "<f4", shape, b)
}

func writeNpyI64(path string, v []int64) error {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return writeNpy(path, "<i8", []int{len(v)}, b)
}

func writeNpy(path, descr string, shape []int, data []byte) error {
	s := make([]string, len(shape))
	for i, n := range shape {
		s[i] = strconv.Itoa(n)
	}
	sh := strings.Join(s, ", ")
	if len(shape) == 1 {
		sh += ","
	}
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, sh)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	head := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	return os.WriteFile(path, append(append(head, h...), data...), 0o644)
}
