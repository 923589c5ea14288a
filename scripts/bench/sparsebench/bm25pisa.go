package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/irflow/irflow/scripts/bench/internal/benchproc"
)

// bm25PISA compares irflow's BM25 query latency (scripts/bench/bm25bench's
// index and latency children: Lucene-equal analysis, top-1000, one thread)
// with PISA's BM25 through pyterrier-pisa (its own analysis: porter2 and
// Lucene's stop words; MaxScore and block-max WAND) on SciFact, Vaswani
// and bm25bench's Zipf collection. The analyses differ, so the postings
// differ a little: this is a latency comparison, not a parity one.
func bm25PISA(args []string) error {
	fs := flag.NewFlagSet("bm25-pisa", flag.ExitOnError)
	data := fs.String("data", "../shared/data", "shared collections")
	docs := fs.Int("docs", 1_000_000, "documents of the Zipf collection (0: skip it)")
	fs.Parse(args)
	out := "bench-out/bm25-pisa"
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	bm25bench := filepath.Join(out, "bm25bench")
	if b, err := exec.Command("go", "build", "-o", bm25bench, "./scripts/bench/bm25bench").CombinedOutput(); err != nil {
		return fmt.Errorf("building bm25bench: %v\n%s", err, b)
	}
	type coll struct{ name, corpus, queries string }
	colls := []coll{
		{"scifact", filepath.Join(*data, "scifact/corpus.jsonl"), filepath.Join(*data, "scifact/queries.tsv")},
		{"vaswani", filepath.Join(*data, "vaswani/corpus.jsonl"), filepath.Join(*data, "vaswani/queries.tsv")},
	}
	if *docs > 0 {
		zdir := filepath.Join("bench-out", fmt.Sprintf("zipf-%d", *docs))
		if _, err := os.Stat(filepath.Join(zdir, "queries.tsv")); err != nil {
			if _, err := benchproc.RunChild(bm25bench, "gen-zipf", "-out", zdir, "-docs", fmt.Sprint(*docs)); err != nil {
				return err
			}
		}
		colls = append(colls, coll{fmt.Sprintf("zipf-%d", *docs), filepath.Join(zdir, "corpus.jsonl"), filepath.Join(zdir, "queries.tsv")})
	}
	py := ".cache/venv-pisa/bin/python"
	fmt.Printf("%-14s %-22s %10s %10s %10s %10s %10s\n", "collection", "system", "mean ms", "p50 ms", "p99 ms", "CPU mean", "CPU p99")
	for _, c := range colls {
		ix := filepath.Join(out, c.name+"-irflow")
		if _, err := benchproc.RunChild(bm25bench, "index", "-docs", c.corpus, "-out", ix); err != nil {
			return err
		}
		lm, err := benchproc.RunChild(bm25bench, "latency", "-index", filepath.Join(ix, "index"), "-queries", c.queries)
		if err != nil {
			return err
		}
		il, err := benchproc.ParseLatency(lm.Out)
		if err != nil {
			return err
		}
		fmt.Printf("%-14s %-22s %10.3f %10.3f %10.3f %10s %10s\n", c.name, "irflow", il.Mean, il.P50, il.P99, "", "")
		px := filepath.Join(out, c.name+"-pisa")
		if _, err := benchproc.RunChild(py, "scripts/bench/sparsebench/pisa.py", "bm25-index", c.corpus, px); err != nil {
			return err
		}
		for _, alg := range []string{"maxscore", "block_max_wand"} {
			pm, err := benchproc.RunChild(py, "scripts/bench/sparsebench/pisa.py", "bm25-latency", px, c.queries, "1000", alg)
			if err != nil {
				return err
			}
			pl, err := benchproc.ParseLatency(pm.Out)
			if err != nil {
				return err
			}
			pc, _ := benchproc.ParseCPU(pm.Out)
			fmt.Printf("%-14s %-22s %10.3f %10.3f %10.3f %10.3f %10.3f   PISA/irflow mean %.2fx p99 %.2fx\n", c.name, "pisa "+alg, pl.Mean, pl.P50, pl.P99, pc.Mean, pc.P99,
				pl.Mean/il.Mean, pl.P99/il.P99)
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Printf("load average at the end: %s", b)
	}
	return nil
}
