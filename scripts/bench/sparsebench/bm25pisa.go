package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/irflow/irflow/scripts/bench/internal/benchproc"
)

// bm25PISA compares irflow's BM25 query latency (scripts/bench/bm25bench's
// index and latency children: Lucene-equal analysis included in the timed
// call, top-1000, one thread) with PISA's BM25 through pyterrier-pisa
// (MaxScore and block-max WAND) on SciFact, Vaswani and bm25bench's Zipf
// collection, PISA indexed two ways:
//
//   - "own": PISA's own analysis (porter2, Lucene's stop words), the text
//     analysed inside the timed call; its postings differ a little from
//     irflow's, so both systems' postings per query are reported;
//   - "irflow": exactly irflow's terms (bm25bench pisa-toks: each
//     document's term frequencies from irflow's index, each query's terms
//     from irflow's analyzer), queries passed pretokenised: the same
//     postings as irflow's, and no analysis in PISA's timed call. Not run
//     for the Zipf collection (the export holds the whole forward index
//     in memory).
//
// Scores differ (PISA uses exact document lengths, Lucene a one-byte
// norm), so this is a latency comparison, not a parity one. The table is
// printed and written to bench-out/bm25-pisa/results.json with the load
// average before and after each collection.
func bm25PISA(args []string) error {
	fs := flag.NewFlagSet("bm25-pisa", flag.ExitOnError)
	data := fs.String("data", "../shared/data", "shared collections")
	docs := fs.Int("docs", 1_000_000, "documents of the Zipf collection (0: skip it)")
	reuse := fs.Bool("reuse", false, "keep indexes an earlier run left under bench-out/bm25-pisa (indexing the Zipf collection takes minutes)")
	fs.Parse(args)
	// build runs an indexing child unless -reuse finds its output.
	build := func(done string, name string, args ...string) error {
		if _, err := os.Stat(done); err == nil && *reuse {
			return nil
		}
		_, err := benchproc.RunChild(name, args...)
		return err
	}
	out := "bench-out/bm25-pisa"
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	bm25bench := filepath.Join(out, "bm25bench")
	if b, err := exec.Command("go", "build", "-o", bm25bench, "./scripts/bench/bm25bench").CombinedOutput(); err != nil {
		return fmt.Errorf("building bm25bench: %v\n%s", err, b)
	}
	type coll struct {
		name, corpus, queries string
		toks                  bool // also index irflow's terms into PISA
	}
	colls := []coll{
		{"scifact", filepath.Join(*data, "scifact/corpus.jsonl"), filepath.Join(*data, "scifact/queries.tsv"), true},
		{"vaswani", filepath.Join(*data, "vaswani/corpus.jsonl"), filepath.Join(*data, "vaswani/queries.tsv"), true},
	}
	if *docs > 0 {
		zdir := filepath.Join("bench-out", fmt.Sprintf("zipf-%d", *docs))
		if _, err := os.Stat(filepath.Join(zdir, "queries.tsv")); err != nil {
			if _, err := benchproc.RunChild(bm25bench, "gen-zipf", "-out", zdir, "-docs", fmt.Sprint(*docs)); err != nil {
				return err
			}
		}
		colls = append(colls, coll{fmt.Sprintf("zipf-%d", *docs), filepath.Join(zdir, "corpus.jsonl"), filepath.Join(zdir, "queries.tsv"), false})
	}
	py := ".cache/venv-pisa/bin/python"
	pisa := func(args ...string) (benchproc.Measured, error) {
		return benchproc.RunChild(py, append([]string{"scripts/bench/sparsebench/pisa.py"}, args...)...)
	}
	type row struct {
		Collection, System, Analysis string
		Postings                     float64 // mean per query
		Wall, CPU                    benchproc.Latency
		LoadBefore, LoadAfter        string
	}
	var rows []row
	fmt.Printf("%-14s %-22s %-7s %9s %8s %8s %8s %8s %8s %8s  %s\n", "collection", "system", "terms", "postings",
		"mean ms", "p50 ms", "p99 ms", "CPU mean", "CPU p50", "CPU p99", "PISA/irflow CPU mean, wall mean")
	for _, c := range colls {
		load := benchproc.LoadAverage()
		ix := filepath.Join(out, c.name+"-irflow")
		if err := build(filepath.Join(ix, "index", "meta.json"), bm25bench, "index", "-docs", c.corpus, "-out", ix); err != nil {
			return err
		}
		type run struct {
			system, analysis string
			m                func() (benchproc.Measured, error)
		}
		runs := []run{{"irflow", "irflow", func() (benchproc.Measured, error) {
			return benchproc.RunChild(bm25bench, "latency", "-index", filepath.Join(ix, "index"), "-queries", c.queries)
		}}}
		px := filepath.Join(out, c.name+"-pisa")
		if err := build(filepath.Join(px, "pt_meta.json"), py, "scripts/bench/sparsebench/pisa.py", "bm25-index", c.corpus, px); err != nil {
			return err
		}
		for _, alg := range []string{"maxscore", "block_max_wand"} {
			runs = append(runs, run{"pisa " + alg, "own", func() (benchproc.Measured, error) {
				return pisa("bm25-latency", px, c.queries, "1000", alg)
			}})
		}
		if c.toks {
			tx, tpx := filepath.Join(out, c.name+"-toks"), filepath.Join(out, c.name+"-pisa-toks")
			if err := build(filepath.Join(tx, "queries.jsonl"), bm25bench, "pisa-toks", "-index", filepath.Join(ix, "index"), "-queries", c.queries, "-out", tx); err != nil {
				return err
			}
			if err := build(filepath.Join(tpx, "pt_meta.json"), py, "scripts/bench/sparsebench/pisa.py", "bm25-toks-index", filepath.Join(tx, "docs.jsonl"), tpx); err != nil {
				return err
			}
			for _, alg := range []string{"maxscore", "block_max_wand"} {
				runs = append(runs, run{"pisa " + alg, "irflow", func() (benchproc.Measured, error) {
					return pisa("bm25-toks-latency", tpx, filepath.Join(tx, "queries.jsonl"), "1000", alg)
				}})
			}
		}
		var base row
		for i, r := range runs {
			before := benchproc.LoadAverage()
			m, err := r.m()
			if err != nil {
				return fmt.Errorf("%s %s: %w", c.name, r.system, err)
			}
			w, err := benchproc.ParseLatency(m.Out)
			if err != nil {
				return err
			}
			cpu, err := benchproc.ParseCPU(m.Out)
			if err != nil {
				return err
			}
			x := row{c.name, r.system, r.analysis, postingsMean(m.Out), w, cpu, before, benchproc.LoadAverage()}
			rows = append(rows, x)
			ratio := ""
			if i == 0 {
				base = x
			} else {
				ratio = fmt.Sprintf("%.2fx, %.2fx", x.CPU.Mean/base.CPU.Mean, x.Wall.Mean/base.Wall.Mean)
			}
			fmt.Printf("%-14s %-22s %-7s %9.0f %8.3f %8.3f %8.3f %8.3f %8.3f %8.3f  %s\n", c.name, r.system, r.analysis, x.Postings,
				w.Mean, w.P50, w.P99, cpu.Mean, cpu.P50, cpu.P99, ratio)
		}
		fmt.Printf("%-14s load average before %s, after %s\n", c.name, load, benchproc.LoadAverage())
	}
	b, err := json.MarshalIndent(map[string]any{"date": time.Now().UTC().Format(time.RFC3339), "rows": rows}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "results.json"), b, 0o644)
}

var postingsRe = regexp.MustCompile(`postings_mean=([\d.]+)`)

// postingsMean reads a child's postings_mean (0 when absent).
func postingsMean(out string) float64 {
	if m := postingsRe.FindStringSubmatch(out); m != nil {
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
	return 0
}
