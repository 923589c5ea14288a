// Command annbench measures irflow's approximate dense indexes (index/ivf,
// search/ivf) against faiss-cpu's IndexIVFFlat, IndexIVFPQ and OPQ +
// IndexIVFPQ on the same vectors, with the same n_lists, m, training size
// and threads: build time, then at each n_probe the queries per second,
// CPU time per query and recall@k against exact search (search/dense).
//
//	go run ./scripts/bench/annbench gen -out DIR [-docs 100000] [-queries 1000] [-dim 128] [-clusters 1000]
//	go run ./scripts/bench/annbench compare -data NAME=DIR [-nlists 256] [-m 16] [-nprobe 1,4,16,64] [-k 10] [-threads 1] [-train 0] [-sim dot]
//
// A data directory holds docs.npy and queries.npy (2-D float32). Indexes go
// under bench-out/annbench (git-ignored). faiss runs afterwards as a
// subprocess (faiss_ann.py, .cache/venv-faiss: ./task setup:faiss).
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/irflow/irflow/index/dense"
	ivfx "github.com/irflow/irflow/index/ivf"
	"github.com/irflow/irflow/scripts/bench/internal/benchproc"
	"github.com/irflow/irflow/scripts/bench/internal/qpsplot"
	denses "github.com/irflow/irflow/search/dense"
	"github.com/irflow/irflow/search/ivf"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: annbench gen|compare [flags] | annbench plot LOG SVG")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "compare":
		err = compare(os.Args[2:])
	case "plot":
		err = replot(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "annbench:", err)
		os.Exit(1)
	}
}

// gen writes a Gaussian mixture (documents and queries drawn around the
// same random centres): clustered like embeddings, unlike standard-normal
// noise, where no index has structure to exploit.
func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	out := fs.String("out", "", "output directory")
	n := fs.Int("docs", 100_000, "documents")
	nq := fs.Int("queries", 1000, "queries")
	dim := fs.Int("dim", 128, "dimension")
	nc := fs.Int("clusters", 1000, "mixture components")
	spread := fs.Float64("spread", 0.5, "standard deviation around a centre (centres are standard normal)")
	seed := fs.Uint64("seed", 1, "random seed")
	fs.Parse(args)
	if *out == "" {
		return fmt.Errorf("gen: -out is required")
	}
	if _, err := os.Stat(filepath.Join(*out, "queries.npy")); err == nil {
		return nil
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(*seed, 3))
	centres := make([]float64, *nc**dim)
	for i := range centres {
		centres[i] = r.NormFloat64()
	}
	for _, f := range []struct {
		name string
		rows int
	}{{"docs.npy", *n}, {"queries.npy", *nq}} {
		v := make([]float32, f.rows**dim)
		for i := 0; i < f.rows; i++ {
			c := r.IntN(*nc)
			for t := 0; t < *dim; t++ {
				v[i**dim+t] = float32(centres[c**dim+t] + *spread*r.NormFloat64())
			}
		}
		if err := writeNpy(filepath.Join(*out, f.name), v, f.rows, *dim); err != nil {
			return err
		}
	}
	return nil
}

func writeNpy(path string, v []float32, rows, cols int) error {
	header := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", rows, cols)
	pad := 64 - (10+len(header)+1)%64
	header += strings.Repeat(" ", pad%64) + "\n"
	f, err := os.Create(path + ".tmp")
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	w.WriteString("\x93NUMPY\x01\x00")
	binary.Write(w, binary.LittleEndian, uint16(len(header)))
	w.WriteString(header)
	binary.Write(w, binary.LittleEndian, v)
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	f.Close()
	return os.Rename(path+".tmp", path)
}

func readNpy(path string) ([]float32, int, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, 0, err
	}
	if len(b) < 10 || string(b[1:6]) != "NUMPY" {
		return nil, 0, 0, fmt.Errorf("%s: not a .npy file", path)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	m := regexp.MustCompile(`'descr': '<f4', 'fortran_order': False, 'shape': \((\d+), (\d+)\)`).FindStringSubmatch(string(b[10 : 10+hl]))
	if m == nil {
		return nil, 0, 0, fmt.Errorf("%s: want a C-order 2-D <f4 array", path)
	}
	rows, _ := strconv.Atoi(m[1])
	cols, _ := strconv.Atoi(m[2])
	data := b[10+hl:]
	if len(data) != 4*rows*cols {
		return nil, 0, 0, fmt.Errorf("%s: %d bytes for (%d, %d)", path, len(data), rows, cols)
	}
	x := make([]float32, rows*cols)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return x, rows, cols, nil
}

type result struct {
	Method    string  `json:"method"`
	NProbe    int     `json:"nprobe"`
	QPS       float64 `json:"qps"`
	CPUms     float64 `json:"cpu_ms"`
	Recall    float64 `json:"recall"`
	BuildS    float64 `json:"build_s"`
	BuildCPUS float64 `json:"build_cpu_s"`
}

func compare(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ExitOnError)
	data := fs.String("data", "", "NAME=DIR")
	nlists := fs.Int("nlists", 256, "inverted lists")
	m := fs.Int("m", 16, "sub-quantisers")
	nprobe := fs.String("nprobe", "1,4,16,64", "n_probe values")
	k := fs.Int("k", 10, "hits per query (recall@k)")
	threads := fs.Int("threads", 1, "threads for both")
	train := fs.Int("train", 0, "training vectors (0 = all)")
	sim := fs.String("sim", "dot", "similarity: dot or l2 (faiss: inner product or L2)")
	py := fs.String("python", ".cache/venv-faiss/bin/python", "faiss venv's python")
	faissMethods := fs.String("faiss-methods", "ivf,ivfpq,opq+ivfpq", "faiss indexes to run (its OPQ training is slow)")
	svg := fs.String("svg", "", "write the QPS–recall picture here (default bench-out/annbench/NAME/qps-recall.svg)")
	fs.Parse(args)
	name, dir, ok := strings.Cut(*data, "=")
	if !ok {
		return fmt.Errorf("-data NAME=DIR")
	}
	var probes []int
	for _, s := range strings.Split(*nprobe, ",") {
		p, err := strconv.Atoi(s)
		if err != nil {
			return err
		}
		probes = append(probes, p)
	}
	x, n, d, err := readNpy(filepath.Join(dir, "docs.npy"))
	if err != nil {
		return err
	}
	q, nq, _, err := readNpy(filepath.Join(dir, "queries.npy"))
	if err != nil {
		return err
	}
	work := filepath.Join("bench-out", "annbench", name)
	os.RemoveAll(work)
	w, err := dense.Create(filepath.Join(work, "dense"), dense.Options{Dim: d, Similarity: *sim})
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if err := w.Add(strconv.Itoa(i), x[i*d:(i+1)*d]); err != nil {
			return err
		}
	}
	if _, err := w.Close(); err != nil {
		return err
	}
	full, err := dense.Open(filepath.Join(work, "dense"))
	if err != nil {
		return err
	}
	ctx := context.Background()
	gt, err := denses.SearchAll(ctx, full, q, denses.Options{K: *k, Threads: *threads})
	if err != nil {
		return err
	}
	gtIDs := make([]int64, 0, nq**k)
	for _, hs := range gt {
		for _, h := range hs {
			gtIDs = append(gtIDs, int64(h.Doc))
		}
	}
	gtPath := filepath.Join(work, "gt.i64")
	gf, _ := os.Create(gtPath)
	binary.Write(gf, binary.LittleEndian, gtIDs)
	gf.Close()
	recall := func(res [][]ivf.Hit) float64 {
		var s float64
		for i, hs := range res {
			in := map[int]bool{}
			for _, h := range gt[i] {
				in[h.Doc] = true
			}
			c := 0
			for _, h := range hs {
				if in[h.Doc] {
					c++
				}
			}
			s += float64(c) / float64(len(gt[i]))
		}
		return s / float64(nq)
	}
	fmt.Printf("# %s: %d × %d, %d queries, k %d, n_lists %d, m %d, train %d, threads %d, %s; load %s\n",
		name, n, d, nq, *k, *nlists, *m, *train, *threads, *sim, benchproc.LoadAverage())
	var rows []result
	for _, meth := range []struct {
		name string
		o    ivfx.Options
	}{
		{"ivf", ivfx.Options{Method: "ivf", NLists: *nlists}},
		{"ivfpq", ivfx.Options{Method: "ivfpq", NLists: *nlists, M: *m}},
		{"opq+ivfpq", ivfx.Options{Method: "ivfpq", NLists: *nlists, M: *m, OPQ: true}},
	} {
		o := meth.o
		o.TrainSize, o.Seed, o.Threads = *train, 1, *threads
		dir := filepath.Join(work, meth.name)
		t0, c0 := time.Now(), benchproc.CPUSeconds()
		if _, err := ivfx.Build(ctx, dir, full, o); err != nil {
			return err
		}
		build, buildCPU := time.Since(t0).Seconds(), benchproc.CPUSeconds()-c0
		ix, err := ivfx.Open(dir, full)
		if err != nil {
			return err
		}
		for _, p := range probes {
			variants := []ivf.Options{{K: *k, NProbe: p, Threads: *threads}}
			if o.Method != "ivf" {
				variants = append(variants, ivf.Options{K: *k, NProbe: p, CandidateK: 10 * *k, Rescore: true, Threads: *threads})
			}
			for vi, so := range variants {
				ivf.SearchAll(ctx, ix, q[:min(nq, 50)*d], so) // warm-up
				t0, c0 := time.Now(), benchproc.CPUSeconds()
				res, err := ivf.SearchAll(ctx, ix, q, so)
				if err != nil {
					return err
				}
				secs, cpu := time.Since(t0).Seconds(), benchproc.CPUSeconds()-c0
				label := meth.name
				if vi == 1 {
					label += fmt.Sprintf(" + re-score %d", so.CandidateK)
				}
				r := result{Method: label, NProbe: p, QPS: float64(nq) / secs, CPUms: 1000 * cpu / float64(nq), Recall: recall(res), BuildS: build, BuildCPUS: buildCPU}
				rows = append(rows, r)
				fmt.Printf("irflow %-24s n_probe %4d: %9.1f QPS, %7.3f CPU ms/query, recall@%d %.4f (build %.1f s, %.1f CPU s)\n", r.Method, p, r.QPS, r.CPUms, *k, r.Recall, build, buildCPU)
			}
		}
		ix.Close()
	}
	cmd := exec.Command(*py, "scripts/bench/annbench/faiss_ann.py", filepath.Join(dir, "docs.npy"), filepath.Join(dir, "queries.npy"), gtPath,
		strconv.Itoa(*k), strconv.Itoa(*nlists), strconv.Itoa(*m), *nprobe, strconv.Itoa(*train), strconv.Itoa(*threads), *sim, *faissMethods)
	cmd.Stderr = os.Stderr
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("faiss: %w", err)
	}
	faiss := map[string]result{}
	sc := bufio.NewScanner(pipe)
	for sc.Scan() {
		line := sc.Text()
		var r result
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return fmt.Errorf("faiss output %q: %w", line, err)
		}
		faiss[fmt.Sprint(r.Method, r.NProbe)] = r
		fmt.Printf("faiss  %-24s n_probe %4d: %9.1f QPS, %7.3f CPU ms/query, recall@%d %.4f (build %.1f s, %.1f CPU s)\n", r.Method, r.NProbe, r.QPS, r.CPUms, *k, r.Recall, r.BuildS, r.BuildCPUS)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("faiss: %w", err)
	}
	if *svg == "" {
		*svg = filepath.Join(work, "qps-recall.svg")
	}
	if err := plot(*svg, name, n, d, *k, *threads, rows, faiss); err != nil {
		return err
	}
	fmt.Printf("# picture: %s\n", *svg)
	fmt.Printf("\n| data | index | n_probe | irflow QPS | faiss QPS | irflow / faiss | CPU ms/query irflow / faiss | recall@%d irflow / faiss | build s irflow / faiss |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n", *k)
	for _, r := range rows {
		f, ok := faiss[fmt.Sprint(r.Method, r.NProbe)]
		if !ok {
			fmt.Printf("| %s | irflow %s | %d | %.0f | | | %.3f / | %.4f / | |\n", name, r.Method, r.NProbe, r.QPS, r.CPUms, r.Recall)
			continue
		}
		fmt.Printf("| %s | %s | %d | %.0f | %.0f | %.2fx | %.3f / %.3f | %.4f / %.4f | %.1f / %.1f |\n", name, r.Method, r.NProbe, r.QPS, f.QPS, r.QPS/f.QPS, r.CPUms, f.CPUms, r.Recall, f.Recall, r.BuildS, f.BuildS)
	}
	return nil
}

// plot draws recall@k against queries per CPU second (1000 / CPU ms per
// query: steadier than wall-clock QPS on a shared machine), one line per
// index and implementation, faiss dashed.
func plot(path, name string, n, d, k, threads int, rows []result, faiss map[string]result) error {
	var series []qpsplot.Series
	add := func(impl string, r result, dashed bool) {
		label := impl + " " + r.Method
		for i := range series {
			if series[i].Name == label {
				series[i].Points = append(series[i].Points, qpsplot.Point{Recall: r.Recall, QPS: 1000 / r.CPUms, Label: fmt.Sprintf("n_probe %d", r.NProbe)})
				return
			}
		}
		series = append(series, qpsplot.Series{Name: label, Dashed: dashed,
			Points: []qpsplot.Point{{Recall: r.Recall, QPS: 1000 / r.CPUms, Label: fmt.Sprintf("n_probe %d", r.NProbe)}}})
	}
	for _, r := range rows {
		add("irflow", r, false)
	}
	keys := make([]string, 0, len(faiss))
	for key := range faiss {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		add("faiss", faiss[key], true)
	}
	title := fmt.Sprintf("%s: %d × %d, recall@%d vs queries per CPU second, %d thread(s)", name, n, d, k, threads)
	return qpsplot.Write(path, title, fmt.Sprintf("recall@%d against exact search", k), "queries per CPU second (log)", series)
}

// logLine is a result line compare prints ("irflow ivfpq + re-score 100
// n_probe 4: 4567.6 QPS, 0.217 CPU ms/query, recall@10 0.7733 (…)"), and
// logHead its "# NAME: N × D, …, threads T" header.
var (
	logLine = regexp.MustCompile(`^(irflow|faiss)\s+(.+?)\s+n_probe\s+(\d+):\s+[\d.]+ QPS,\s+([\d.]+) CPU ms/query, recall@(\d+) ([\d.]+)`)
	logHead = regexp.MustCompile(`^# (\S+): (\d+) × (\d+), .*threads (\d+)`)
)

// replot redraws the QPS–recall picture from a saved compare log, so a
// picture in the docs can be made again from the run it shows.
func replot(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("plot LOG SVG")
	}
	b, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	var name string
	var n, d, k, threads int
	var rows []result
	faiss := map[string]result{}
	for _, line := range strings.Split(string(b), "\n") {
		if m := logHead.FindStringSubmatch(line); m != nil {
			name = m[1]
			n, _ = strconv.Atoi(m[2])
			d, _ = strconv.Atoi(m[3])
			threads, _ = strconv.Atoi(m[4])
			continue
		}
		m := logLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var r result
		r.Method = m[2]
		r.NProbe, _ = strconv.Atoi(m[3])
		r.CPUms, _ = strconv.ParseFloat(m[4], 64)
		k, _ = strconv.Atoi(m[5])
		r.Recall, _ = strconv.ParseFloat(m[6], 64)
		if m[1] == "faiss" {
			faiss[fmt.Sprint(r.Method, r.NProbe)] = r
		} else {
			rows = append(rows, r)
		}
	}
	if name == "" || len(rows) == 0 {
		return fmt.Errorf("%s: no compare header or irflow results", args[0])
	}
	return plot(args[1], name, n, d, k, threads, rows, faiss)
}
