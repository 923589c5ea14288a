// Command densebench measures irflow's exact dense search against faiss-cpu's
// IndexFlatIP in one run, same threads, same data: index build time and
// size, then queries per second for each k and thread count, and how many
// of faiss's top-k irflow also returns.
//
//	go run ./scripts/bench/densebench gen -out DIR [-docs 1000000] [-queries 1000] [-dim 384]
//	go run ./scripts/bench/densebench compare -python PY -data NAME=DIR[,NAME=DIR] [-k 10,100] [-threads 1,2]
//
// A data directory holds docs.npy and queries.npy (2-D float32; .f32 raw
// files with -dim also work). Indexes go under bench-out/densebench
// (git-ignored). faiss runs as a subprocess (faiss_flat.py) that keeps its
// index in memory and is interleaved with irflow config by config, so both
// see the same machine load.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	index "github.com/irflow/irflow/index/dense"
	"github.com/irflow/irflow/scripts/bench/internal/benchproc"
	search "github.com/irflow/irflow/search/dense"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: densebench gen|compare [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "gen":
		err = gen(os.Args[2:])
	case "compare":
		err = compare(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "densebench:", err)
		os.Exit(1)
	}
}

// gen writes standard-normal random documents and queries (the usual
// synthetic flat-index benchmark; no structure to exploit).
func gen(args []string) error {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	out := fs.String("out", "", "output directory")
	n := fs.Int("docs", 1_000_000, "documents")
	nq := fs.Int("queries", 1000, "queries")
	dim := fs.Int("dim", 384, "dimension")
	seed := fs.Uint64("seed", 1, "random seed")
	fs.Parse(args)
	if *out == "" {
		return fmt.Errorf("gen: -out is required")
	}
	if _, err := os.Stat(filepath.Join(*out, "queries.npy")); err == nil {
		return nil // already there
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(*seed, 2))
	for _, f := range []struct {
		name string
		rows int
	}{{"docs.npy", *n}, {"queries.npy", *nq}} {
		v := make([]float32, f.rows**dim)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		if err := writeNpy(filepath.Join(*out, f.name+".tmp"), "<f4", f.rows, *dim, float32Bytes(v)); err != nil {
			return err
		}
	}
	os.Rename(filepath.Join(*out, "docs.npy.tmp"), filepath.Join(*out, "docs.npy"))
	return os.Rename(filepath.Join(*out, "queries.npy.tmp"), filepath.Join(*out, "queries.npy"))
}

type row struct {
	data                string
	k, threads          int
	irflow, faiss       float64 // QPS
	irflowCPU, faissCPU float64 // CPU seconds per 1,000 queries
	agree               float64 // fraction of faiss's top-k that irflow returns
}

func compare(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ExitOnError)
	py := fs.String("python", ".cache/venv-faiss/bin/python", "Python with faiss-cpu")
	data := fs.String("data", "", "NAME=DIR[,NAME=DIR…]")
	ks := fs.String("k", "10,100", "k values")
	ths := fs.String("threads", "1,2", "thread counts")
	dim := fs.Int("dim", 0, "row width of raw .f32 files")
	dtype := fs.String("dtype", "float32", "irflow index dtype")
	workDir := fs.String("work", "bench-out/densebench", "where indexes go")
	fs.Parse(args)
	kList, err := ints(*ks)
	if err != nil {
		return err
	}
	tList, err := ints(*ths)
	if err != nil {
		return err
	}
	fmt.Printf("machine: %s/%s, %d CPUs, GOMAXPROCS %d, %s, load average %s\n", runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.GOMAXPROCS(0), cpuModel(), benchproc.LoadAverage())
	var rows []row
	var builds []string
	for _, spec := range strings.Split(*data, ",") {
		name, dir, ok := strings.Cut(spec, "=")
		if !ok {
			return fmt.Errorf("-data %q: want NAME=DIR", spec)
		}
		r, b, err := compareOne(name, dir, *py, *dim, *dtype, filepath.Join(*workDir, name), kList, tList)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		rows = append(rows, r...)
		builds = append(builds, b...)
	}
	fmt.Println()
	fmt.Println("| data | build | irflow | faiss-cpu IndexFlatIP |")
	fmt.Println("| --- | --- | ---: | ---: |")
	for _, b := range builds {
		fmt.Println(b)
	}
	fmt.Println()
	fmt.Println("| data | k | threads | irflow QPS | faiss QPS | irflow / faiss | CPU s per 1k queries, irflow / faiss | top-k agreement |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		fmt.Printf("| %s | %d | %d | %.1f | %.1f | %.2fx | %.2f / %.2f | %.4f |\n", r.data, r.k, r.threads, r.irflow, r.faiss, r.irflow/r.faiss, r.irflowCPU, r.faissCPU, r.agree)
	}
	return nil
}

func compareOne(name, dir, py string, dim int, dtype, work string, ks, threads []int) ([]row, []string, error) {
	docsPath, queriesPath := dataFile(dir, "docs", dim), dataFile(dir, "queries", dim)
	docs, err := readMatrix(docsPath, dim)
	if err != nil {
		return nil, nil, err
	}
	queries, err := readMatrix(queriesPath, dim)
	if err != nil {
		return nil, nil, err
	}
	if docs.cols != queries.cols {
		return nil, nil, fmt.Errorf("docs are %d-d, queries %d-d", docs.cols, queries.cols)
	}
	fmt.Printf("%s: %d docs × %d, %d queries\n", name, docs.rows, docs.cols, queries.rows)
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, nil, err
	}

	// irflow: stream the rows into a new index (to disk, synced).
	ixDir := filepath.Join(work, "irflow-index")
	os.RemoveAll(ixDir)
	t0 := time.Now()
	w, err := index.Create(ixDir, index.Options{Dim: docs.cols, DType: dtype, Similarity: "dot"})
	if err != nil {
		return nil, nil, err
	}
	for i := 0; i < docs.rows; i++ {
		if err := w.Add(strconv.Itoa(i), docs.data[i*docs.cols:(i+1)*docs.cols]); err != nil {
			w.Abort()
			return nil, nil, err
		}
	}
	if _, err := w.Close(); err != nil {
		return nil, nil, err
	}
	irBuild := time.Since(t0).Seconds()
	irSize := benchproc.DirSize(ixDir)
	docs.data = nil
	runtime.GC()
	ix, err := index.Open(ixDir)
	if err != nil {
		return nil, nil, err
	}
	defer ix.Close()

	// faiss: a subprocess that builds once and then answers commands.
	faissFile := filepath.Join(work, "faiss.index")
	cmd := exec.Command(py, "scripts/bench/densebench/faiss_flat.py", docsPath, queriesPath, faissFile)
	cmd.Stderr = os.Stderr
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	defer func() { fmt.Fprintln(stdin, "quit"); stdin.Close(); cmd.Wait() }()
	out := bufio.NewReader(stdout)
	var fb struct {
		BuildS     float64 `json:"build_s"`
		IndexBytes int64   `json:"index_bytes"`
		Version    string  `json:"version"`
	}
	if err := readJSON(out, &fb); err != nil {
		return nil, nil, fmt.Errorf("faiss: %w", err)
	}
	builds := []string{
		fmt.Sprintf("| %s | build (to disk; irflow also syncs) | %.2f s | %.2f s |", name, irBuild, fb.BuildS),
		fmt.Sprintf("| %s | index size | %.1f MB | %.1f MB |", name, float64(irSize)/1e6, float64(fb.IndexBytes)/1e6),
	}
	fmt.Printf("  build: irflow %.2f s, %.1f MB; faiss %s %.2f s, %.1f MB\n", irBuild, float64(irSize)/1e6, fb.Version, fb.BuildS, float64(fb.IndexBytes)/1e6)

	var rows []row
	for _, k := range ks {
		for _, th := range threads {
			t0, c0 := time.Now(), benchproc.CPUSeconds()
			hits, err := search.SearchAll(context.Background(), ix, queries.data, search.Options{K: k, Threads: th})
			if err != nil {
				return nil, nil, err
			}
			irQPS := float64(queries.rows) / time.Since(t0).Seconds()
			irCPU := (benchproc.CPUSeconds() - c0) * 1000 / float64(queries.rows)
			idsOut := filepath.Join(work, fmt.Sprintf("faiss-ids-k%d-t%d.npy", k, th))
			fmt.Fprintf(stdin, "search %d %d %s\n", k, th, idsOut)
			var fr struct {
				QPS float64 `json:"qps"`
				CPU float64 `json:"cpu_s"`
			}
			if err := readJSON(out, &fr); err != nil {
				return nil, nil, fmt.Errorf("faiss: %w", err)
			}
			agree, err := agreement(hits, idsOut, k)
			if err != nil {
				return nil, nil, err
			}
			faissCPU := fr.CPU * 1000 / float64(queries.rows)
			fmt.Printf("  k=%d threads=%d: irflow %.1f QPS, faiss %.1f QPS (%.2fx); CPU s per 1k queries %.2f vs %.2f; agreement %.4f\n", k, th, irQPS, fr.QPS, irQPS/fr.QPS, irCPU, faissCPU, agree)
			rows = append(rows, row{name, k, th, irQPS, fr.QPS, irCPU, faissCPU, agree})
		}
	}
	return rows, builds, nil
}

// agreement is the fraction of faiss's top-k documents that irflow's
// top-k holds too (1 unless scores tie or differ in the last bits at the
// k-th place).
func agreement(hits [][]search.Hit, npyPath string, k int) (float64, error) {
	b, err := os.ReadFile(npyPath)
	if err != nil {
		return 0, err
	}
	hl := int(binary.LittleEndian.Uint16(b[8:]))
	ids := b[10+hl:]
	var same, total int
	for q, hs := range hits {
		mine := map[int]bool{}
		for _, h := range hs {
			mine[h.Doc] = true
		}
		for j := 0; j < k; j++ {
			id := int(int64(binary.LittleEndian.Uint64(ids[8*(q*k+j):])))
			if id < 0 {
				continue
			}
			total++
			if mine[id] {
				same++
			}
		}
	}
	return float64(same) / math.Max(1, float64(total)), nil
}

func readJSON(r *bufio.Reader, v any) error {
	line, err := r.ReadBytes('\n')
	if err != nil {
		if err == io.EOF {
			return fmt.Errorf("process ended")
		}
		return err
	}
	return json.Unmarshal(line, v)
}

func dataFile(dir, name string, dim int) string {
	if dim > 0 {
		if _, err := os.Stat(filepath.Join(dir, name+".f32")); err == nil {
			return filepath.Join(dir, name+".f32")
		}
	}
	return filepath.Join(dir, name+".npy")
}

func ints(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("bad number %q", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			_, v, _ := strings.Cut(l, ":")
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
