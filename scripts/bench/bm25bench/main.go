// Command bm25bench measures irflow's BM25 against Anserini (Lucene) on the
// same machine, one run side by side: indexing throughput, index size, peak
// memory while indexing, and single-thread query latency (top-1000) on
// SciFact, Vaswani and a synthetic 1-million-document Zipfian collection.
//
//	go run ./scripts/bench/bm25bench compare [-docs 1000000] [-skip-anserini]
//	go run ./scripts/bench/bm25bench gen-zipf -out DIR -docs N
//	go run ./scripts/bench/bm25bench index -docs FILE -out DIR [-fields flat] [-memory-mb 256]
//	go run ./scripts/bench/bm25bench latency -index DIR -queries FILE [-k 1000]
//	go run ./scripts/bench/bm25bench pisa-toks -index DIR -queries FILE -out DIR
//
// Anserini is driven through scripts/bench/anserini.sh. Outputs go under
// bench-out/ (git-ignored).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/irflow/irflow/analysis"
	index "github.com/irflow/irflow/index/bm25"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/pipeline/stage"
	"github.com/irflow/irflow/scripts/bench/internal/benchproc"
	search "github.com/irflow/irflow/search/bm25"
	stagebm25 "github.com/irflow/irflow/stages/bm25"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: bm25bench compare|gen-zipf|index|latency|pisa-toks [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "compare":
		err = compare(os.Args[2:])
	case "gen-zipf":
		err = genZipfCmd(os.Args[2:])
	case "index":
		err = indexCmd(os.Args[2:])
	case "latency":
		err = latencyCmd(os.Args[2:])
	case "pisa-toks":
		err = pisaToksCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bm25bench:", err)
		os.Exit(1)
	}
}

// ---- synthetic collection ---------------------------------------------------

// word returns the vocabulary word of a Zipf rank: two-letter
// consonant-vowel syllables, the base-100 digits of rank+100, so every
// word is unique, has at least two syllables and is never a stop word.
func word(rank uint64) string {
	const cons, vows = "bcdfghjklmnpqrstvwxz", "aeiou"
	var b []byte
	for n := rank + 100; n > 0; n /= 100 {
		d := n % 100
		b = append(b, cons[d/5], vows[d%5])
	}
	return string(b)
}

// genZipf writes corpus.jsonl (docs documents of 30-90 words) and
// queries.tsv (1000 queries of 2-6 words), words drawn from Zipf(1.1) over
// a 500,000-word vocabulary with a fixed seed.
func genZipf(dir string, docs int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(2024, 11))
	z := rand.NewZipf(r, 1.1, 1, 500_000-1)
	vocab := make([]string, 500_000)
	for i := range vocab {
		vocab[i] = word(uint64(i))
	}
	f, err := os.Create(filepath.Join(dir, "corpus.jsonl"))
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var line []byte
	for d := 0; d < docs; d++ {
		line = append(line[:0], `{"_id": "d`...)
		line = strconv.AppendInt(line, int64(d), 10)
		line = append(line, `", "title": "", "text": "`...)
		n := 30 + r.IntN(61)
		for i := 0; i < n; i++ {
			if i > 0 {
				line = append(line, ' ')
			}
			line = append(line, vocab[z.Uint64()]...)
		}
		line = append(line, "\"}\n"...)
		w.Write(line)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	var qb strings.Builder
	for q := 0; q < 1000; q++ {
		fmt.Fprintf(&qb, "q%d\t", q)
		n := 2 + r.IntN(5)
		for i := 0; i < n; i++ {
			if i > 0 {
				qb.WriteByte(' ')
			}
			qb.WriteString(vocab[z.Uint64()])
		}
		qb.WriteByte('\n')
	}
	return os.WriteFile(filepath.Join(dir, "queries.tsv"), []byte(qb.String()), 0o644)
}

func genZipfCmd(args []string) error {
	fs := flag.NewFlagSet("gen-zipf", flag.ExitOnError)
	out := fs.String("out", "bench-out/zipf", "output directory")
	docs := fs.Int("docs", 1_000_000, "documents")
	fs.Parse(args)
	return genZipf(*out, *docs)
}

// ---- irflow child commands --------------------------------------------------

func indexCmd(args []string) error {
	fs := flag.NewFlagSet("index", flag.ExitOnError)
	docs := fs.String("docs", "", "documents (TSV or BEIR JSONL)")
	out := fs.String("out", "", "output directory (replaced)")
	fields := fs.String("fields", "flat", "flat or multifield")
	mem := fs.Float64("memory-mb", 256, "index memory budget")
	threads := fs.Int("threads", runtime.NumCPU(), "threads")
	fs.Parse(args)
	os.RemoveAll(*out)
	ckpt := *out + ".ckpt"
	os.RemoveAll(ckpt)
	defer os.RemoveAll(ckpt)
	k := stagebm25.IndexKind()
	p := map[string]any{}
	for _, d := range k.Params {
		p[d.Name] = d.Default
	}
	p["docs"], p["fields"], p["memory_mb"] = *docs, *fields, *mem
	job := &stage.Job{Address: "index.bench", Params: p, OutDir: *out, CheckpointDir: ckpt, Threads: *threads}
	return k.Run(context.Background(), job)
}

// latency searches every query twice on one thread (the first pass warms
// the page cache, as the Java harness warms its JIT) and reports the
// second pass.
func latencyCmd(args []string) error {
	fs := flag.NewFlagSet("latency", flag.ExitOnError)
	ixDir := fs.String("index", "", "index directory")
	queries := fs.String("queries", "", "queries")
	k := fs.Int("k", 1000, "hits")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the timed pass")
	fs.Parse(args)
	ix, err := index.Open(*ixDir)
	if err != nil {
		return err
	}
	defer ix.Close()
	s, err := search.NewSearcher(ix, search.DefaultParams())
	if err != nil {
		return err
	}
	qs, err := collection.ReadQueriesFile(*queries)
	if err != nil {
		return err
	}
	an, err := analysis.New(analysis.Config{})
	if err != nil {
		return err
	}
	var sc search.Scratch
	// Postings of the query terms (what exhaustive scoring would
	// traverse), to compare with other systems' analyses.
	var postings int64
	for _, q := range qs {
		terms, _ := search.QueryTerms(an, q.Text, &sc)
		for _, t := range terms {
			if ti, ok := ix.Lookup(0, t); ok {
				postings += int64(ti.DocFreq)
			}
		}
	}
	wall, cpu, err := benchproc.TimeQueries(len(qs), *cpuprofile, func(i int) error {
		s.Search(an, qs[i].Text, *k, &sc)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Println(benchproc.LatencyLine(len(qs), wall.Mean, wall.P50, wall.P99), benchproc.CPULine(cpu),
		fmt.Sprintf("postings_mean=%.1f", float64(postings)/float64(len(qs))))
	return nil
}

// pisaToksCmd writes an index's documents as PISA "toks" (docs.jsonl:
// docno and term → frequency, read back from the index's postings of its
// first field) and the queries as irflow analyses them (queries.jsonl: id
// and term → count), so that PISA can index and search exactly irflow's
// terms: scripts/bench/sparsebench/pisa.py bm25-toks-*.
func pisaToksCmd(args []string) error {
	fs := flag.NewFlagSet("pisa-toks", flag.ExitOnError)
	ixDir := fs.String("index", "", "index directory")
	queries := fs.String("queries", "", "queries")
	out := fs.String("out", "", "output directory")
	fs.Parse(args)
	ix, err := index.Open(*ixDir)
	if err != nil {
		return err
	}
	defer ix.Close()
	if len(ix.Meta.Fields) != 1 {
		return fmt.Errorf("%s: %d fields, want one (a flat index)", *ixDir, len(ix.Meta.Fields))
	}
	// Invert the postings into per-document term frequencies.
	docs := make([]map[string]uint32, ix.NumDocs())
	var p index.Postings
	ix.Terms(0, func(term string, ti index.TermInfo) bool {
		ix.Postings(ti, &p)
		for d := p.Next(); d != index.NoMoreDocs; d = p.Next() {
			if docs[d] == nil {
				docs[d] = map[string]uint32{}
			}
			docs[d][term] = p.Freq()
		}
		return true
	})
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	write := func(name string, n int, rec func(i int) any) error {
		f, err := os.Create(filepath.Join(*out, name))
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		enc := json.NewEncoder(w)
		for i := 0; i < n; i++ {
			if err := enc.Encode(rec(i)); err != nil {
				f.Close()
				return err
			}
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	type rec struct {
		ID   string         `json:"id"`
		Toks map[string]int `json:"toks"`
	}
	if err := write("docs.jsonl", len(docs), func(d int) any {
		return struct {
			Docno string            `json:"docno"`
			Toks  map[string]uint32 `json:"toks"`
		}{ix.DocID(uint32(d)), docs[d]}
	}); err != nil {
		return err
	}
	qs, err := collection.ReadQueriesFile(*queries)
	if err != nil {
		return err
	}
	an, err := analysis.New(analysis.Config{})
	if err != nil {
		return err
	}
	var sc search.Scratch
	return write("queries.jsonl", len(qs), func(i int) any {
		terms, counts := search.QueryTerms(an, qs[i].Text, &sc)
		toks := map[string]int{}
		for j, t := range terms {
			toks[t] = counts[j]
		}
		return rec{qs[i].ID, toks}
	})
}

// ---- side by side ----------------------------------------------------------

type result struct {
	Collection      string  `json:"collection"`
	Docs            int     `json:"docs"`
	System          string  `json:"system"`
	IndexSeconds    float64 `json:"index_seconds"`
	DocsPerSecond   float64 `json:"docs_per_second"`
	IndexCPUSeconds float64 `json:"index_cpu_seconds"`
	DocsPerCPUSec   float64 `json:"docs_per_cpu_second"`
	IndexBytes      int64   `json:"index_bytes"`
	IndexPeakRSS    int64   `json:"index_peak_rss_bytes"`
	LatencyMeanMs   float64 `json:"latency_mean_ms"`
	LatencyP50Ms    float64 `json:"latency_p50_ms"`
	LatencyP99Ms    float64 `json:"latency_p99_ms"`
	MemoryBudgetMiB float64 `json:"memory_budget_mib,omitempty"`
}

func compare(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ExitOnError)
	data := fs.String("data", "../shared/data", "shared collections")
	zipfDocs := fs.Int("docs", 1_000_000, "documents of the synthetic collection (0: skip it)")
	memMB := fs.Float64("memory-mb", 256, "irflow index memory budget")
	threads := fs.Int("threads", runtime.NumCPU(), "indexing threads (both systems)")
	skipAnserini := fs.Bool("skip-anserini", false, "measure irflow only")
	fs.Parse(args)
	out := "bench-out/bm25"
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	type coll struct{ name, corpus, queries string }
	colls := []coll{
		{"scifact", filepath.Join(*data, "scifact/corpus.jsonl"), filepath.Join(*data, "scifact/queries.tsv")},
		{"vaswani", filepath.Join(*data, "vaswani/corpus.jsonl"), filepath.Join(*data, "vaswani/queries.tsv")},
	}
	if *zipfDocs > 0 {
		zdir := filepath.Join("bench-out", fmt.Sprintf("zipf-%d", *zipfDocs))
		if _, err := os.Stat(filepath.Join(zdir, "queries.tsv")); err != nil {
			fmt.Fprintf(os.Stderr, "generating %d Zipfian documents in %s …\n", *zipfDocs, zdir)
			if err := genZipf(zdir, *zipfDocs); err != nil {
				return err
			}
		}
		colls = append(colls, coll{fmt.Sprintf("zipf-%d", *zipfDocs), filepath.Join(zdir, "corpus.jsonl"), filepath.Join(zdir, "queries.tsv")})
	}
	var results []result
	for _, c := range colls {
		docs, err := countLines(c.corpus)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s: irflow index …\n", c.name)
		ixDir := filepath.Join(out, c.name+"-irflow")
		m, err := benchproc.RunChild(self, "index", "-docs", c.corpus, "-out", ixDir, "-memory-mb", fmt.Sprint(*memMB), "-threads", fmt.Sprint(*threads))
		if err != nil {
			return err
		}
		r := result{Collection: c.name, Docs: docs, System: "irflow", IndexSeconds: m.Wall.Seconds(),
			DocsPerSecond: float64(docs) / m.Wall.Seconds(), IndexCPUSeconds: m.CPU.Seconds(), DocsPerCPUSec: float64(docs) / m.CPU.Seconds(), IndexBytes: benchproc.DirSize(filepath.Join(ixDir, "index")),
			IndexPeakRSS: m.MaxRSS, MemoryBudgetMiB: *memMB}
		fmt.Fprintf(os.Stderr, "%s: irflow latency …\n", c.name)
		lm, err := benchproc.RunChild(self, "latency", "-index", filepath.Join(ixDir, "index"), "-queries", c.queries)
		if err != nil {
			return err
		}
		l, err := benchproc.ParseLatency(lm.Out)
		if err != nil {
			return err
		}
		r.LatencyMeanMs, r.LatencyP50Ms, r.LatencyP99Ms = l.Mean, l.P50, l.P99
		results = append(results, r)

		if *skipAnserini {
			continue
		}
		fmt.Fprintf(os.Stderr, "%s: Anserini index …\n", c.name)
		m, err = benchproc.RunChild("bash", "scripts/bench/anserini.sh", "index", "bench-"+c.name, c.corpus, "flat", fmt.Sprint(*threads))
		if err != nil {
			return err
		}
		ar := result{Collection: c.name, Docs: docs, System: "anserini", IndexSeconds: m.Wall.Seconds(),
			DocsPerSecond: float64(docs) / m.Wall.Seconds(), IndexCPUSeconds: m.CPU.Seconds(), DocsPerCPUSec: float64(docs) / m.CPU.Seconds(), IndexBytes: benchproc.DirSize(filepath.Join("bench-out/anserini", "bench-"+c.name+"-flat")),
			IndexPeakRSS: m.MaxRSS}
		fmt.Fprintf(os.Stderr, "%s: Anserini latency …\n", c.name)
		lm, err = benchproc.RunChild("bash", "scripts/bench/anserini.sh", "latency", "bench-"+c.name, c.queries, "flat")
		if err != nil {
			return err
		}
		if l, err = benchproc.ParseLatency(lm.Out); err != nil {
			return err
		}
		ar.LatencyMeanMs, ar.LatencyP50Ms, ar.LatencyP99Ms = l.Mean, l.P50, l.P99
		results = append(results, ar)
	}
	js, _ := json.MarshalIndent(results, "", "  ")
	os.WriteFile(filepath.Join(out, "results.json"), append(js, '\n'), 0o644)
	printTable(os.Stdout, results)
	return nil
}

func countLines(path string) (int, error) {
	dr, c, err := collection.OpenDocs(path)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	n := 0
	for {
		_, err := dr.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		n++
	}
}

func printTable(w io.Writer, rs []result) {
	fmt.Fprintf(w, "\n%-14s %-9s %8s %12s %12s %10s %9s %9s %9s %9s\n", "collection", "system", "docs", "index docs/s", "docs/CPU-s", "index MiB", "peak RSS", "mean ms", "p50 ms", "p99 ms")
	byKey := map[string]result{}
	for _, r := range rs {
		byKey[r.Collection+"/"+r.System] = r
		fmt.Fprintf(w, "%-14s %-9s %8d %12.0f %12.0f %10.1f %8.0fM %9.3f %9.3f %9.3f\n", r.Collection, r.System, r.Docs, r.DocsPerSecond, r.DocsPerCPUSec,
			float64(r.IndexBytes)/(1<<20), float64(r.IndexPeakRSS)/(1<<20), r.LatencyMeanMs, r.LatencyP50Ms, r.LatencyP99Ms)
	}
	fmt.Fprintf(w, "\nirflow / Anserini (≥ 1.0 means irflow is at least as good):\n")
	fmt.Fprintf(w, "%-14s %9s %11s %8s %9s %8s %8s %8s\n", "collection", "docs/s", "docs/CPU-s", "size", "peak RSS", "mean", "p50", "p99")
	for _, r := range rs {
		if r.System != "irflow" {
			continue
		}
		a, ok := byKey[r.Collection+"/anserini"]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "%-14s %8.2fx %10.2fx %7.2fx %8.2fx %7.2fx %7.2fx %7.2fx\n", r.Collection, r.DocsPerSecond/a.DocsPerSecond, r.DocsPerCPUSec/a.DocsPerCPUSec,
			float64(a.IndexBytes)/float64(r.IndexBytes), float64(a.IndexPeakRSS)/float64(r.IndexPeakRSS),
			a.LatencyMeanMs/r.LatencyMeanMs, a.LatencyP50Ms/r.LatencyP50Ms, a.LatencyP99Ms/r.LatencyP99Ms)
	}
	for _, r := range rs {
		if r.System == "irflow" && r.MemoryBudgetMiB > 0 {
			fmt.Fprintf(w, "irflow %s: peak RSS while indexing %.0f MiB with memory_mb = %.0f\n", r.Collection, float64(r.IndexPeakRSS)/(1<<20), r.MemoryBudgetMiB)
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(w, "load average at the end: %s", b)
	}
}
