// Command sparsebench measures irflow's learned-sparse impact index
// (index/sparse, search/sparse) side by side with Anserini 1.5.0's Lucene
// impact index and, when pyterrier-pisa is installed, PISA: indexing
// throughput, index size, peak memory while indexing, and single-thread
// query latency (top-1000 and top-10), all from the same quantised vectors
// (weights × 100, rounded) and on one thread each.
//
//	go run ./scripts/bench/sparsebench compare [-docs 1000000] [-scifact DIR]
//	go run ./scripts/bench/sparsebench gen-synth -out DIR -docs N [-queries 1000]
//	go run ./scripts/bench/sparsebench prep -docs VECTORS.jsonl -queries QUERIES.jsonl -out DIR
//	go run ./scripts/bench/sparsebench index -vectors FILE -out DIR [-memory-mb 256]
//	go run ./scripts/bench/sparsebench latency -index DIR -queries FILE [-k 1000] [-run OUT]
//	go run ./scripts/bench/sparsebench bm25-pisa [-docs 1000000]   (BM25 latency vs PISA)
//
// -scifact takes the vectors scripts/oracle/neural/retrieve.py --kind sparse
// --scale 100 --vectors-out DIR writes (splade-tiny on SciFact).
//
// A prepared corpus directory holds vectors.jsonl (Anserini's
// JsonVectorCollection, integer weights), queries.jsonl (the same integer
// weights, {"id", "vector"}) and topics.tsv (Anserini's pretokenized
// topics: tokens repeated by weight). irflow indexes vectors.jsonl at
// scale 1, which keeps the integers as they are. Outputs go under
// bench-out/sparse (git-ignored).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	index "github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/index/sparse/jsonvec"
	"github.com/irflow/irflow/index/sparse/synth"
	"github.com/irflow/irflow/scripts/bench/internal/benchproc"
	search "github.com/irflow/irflow/search/sparse"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: sparsebench compare|gen-synth|prep|index|latency|bm25-pisa [flags]")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{"compare": compare, "gen-synth": genSynthCmd, "prep": prepCmd, "index": indexCmd, "latency": latencyCmd, "bm25-pisa": bm25PISA}
	cmd, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "sparsebench: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := cmd(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "sparsebench:", err)
		os.Exit(1)
	}
}

// scale is the quantisation every system gets (Anserini's SPLADE
// regressions and the neural stage's default: weights × 100).
const scale = 100

// ---- preparing corpora -----------------------------------------------------

// writer writes the three files of a prepared corpus.
type writer struct {
	files [3]*os.File
	bufs  [3]*bufio.Writer
	vocab jsonvec.Vocab
}

func newWriter(dir string, vocab jsonvec.Vocab) (*writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	w := &writer{vocab: vocab}
	for i, name := range []string{"vectors.jsonl", "queries.jsonl", "topics.tsv"} {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		w.files[i], w.bufs[i] = f, bufio.NewWriterSize(f, 1<<20)
	}
	return w, nil
}

func (w *writer) doc(d index.Doc) error { return jsonvec.WriteAnserini(w.bufs[0], d, w.vocab, scale) }

func (w *writer) query(id string, terms []uint32, weights []float32) error {
	ts, ws, err := jsonvec.Quantized(terms, weights, scale)
	if err != nil {
		return err
	}
	q := index.Doc{ID: id, Terms: ts, Weights: make([]float32, len(ws))}
	for i, v := range ws {
		q.Weights[i] = float32(v)
	}
	if err := jsonvec.WriteVector(w.bufs[1], q, w.vocab); err != nil {
		return err
	}
	return jsonvec.WriteAnseriniTopic(w.bufs[2], id, ts, q.Weights, w.vocab, 1)
}

func (w *writer) close() error {
	for i := range w.files {
		if err := w.bufs[i].Flush(); err != nil {
			return err
		}
		if err := w.files[i].Close(); err != nil {
			return err
		}
	}
	return nil
}

// genSynth writes a synthetic SPLADE-like corpus (index/sparse/synth,
// seed 2024), generating documents on all cores in order.
func genSynth(dir string, docs, queries int) error {
	g := synth.New(synth.Config{Docs: docs, Queries: queries, Seed: 2024})
	w, err := newWriter(dir, jsonvec.Numbered{})
	if err != nil {
		return err
	}
	const chunk = 4096
	workers := runtime.GOMAXPROCS(0)
	type part struct {
		docs []index.Doc
		done chan struct{}
	}
	parts := make(chan *part, workers*2)
	go func() {
		defer close(parts)
		sem := make(chan struct{}, workers)
		for start := 0; start < docs; start += chunk {
			p := &part{done: make(chan struct{})}
			sem <- struct{}{}
			go func(start int) {
				for i := start; i < min(start+chunk, docs); i++ {
					p.docs = append(p.docs, g.Doc(i))
				}
				close(p.done)
				<-sem
			}(start)
			parts <- p
		}
	}()
	for p := range parts {
		<-p.done
		for _, d := range p.docs {
			if err := w.doc(d); err != nil {
				return err
			}
		}
	}
	for i := range queries {
		id, t, wts := g.Query(i)
		if err := w.query(id, t, wts); err != nil {
			return err
		}
	}
	return w.close()
}

func genSynthCmd(args []string) error {
	fs := flag.NewFlagSet("gen-synth", flag.ExitOnError)
	out := fs.String("out", "bench-out/sparse/synth", "output directory")
	docs := fs.Int("docs", 1_000_000, "documents")
	queries := fs.Int("queries", 1000, "queries")
	fs.Parse(args)
	return genSynth(*out, *docs, *queries)
}

// prep quantises real float vectors (the JSONL jsonvec reads) into a
// prepared corpus.
func prep(dir, docsPath, queriesPath string) error {
	var dict jsonvec.Dict
	w, err := newWriter(dir, &dict)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		path string
		fn   func(index.Doc) error
	}{{docsPath, w.doc}, {queriesPath, func(q index.Doc) error { return w.query(q.ID, q.Terms, q.Weights) }}} {
		r, err := os.Open(f.path)
		if err != nil {
			return err
		}
		for d, err := range jsonvec.Read(r, f.path, &dict) {
			if err == nil {
				err = f.fn(d)
			}
			if err != nil {
				r.Close()
				return err
			}
		}
		r.Close()
	}
	return w.close()
}

func prepCmd(args []string) error {
	fs := flag.NewFlagSet("prep", flag.ExitOnError)
	docs := fs.String("docs", "", "document vectors (JSONL {id, vector})")
	queries := fs.String("queries", "", "query vectors (JSONL {id, vector})")
	out := fs.String("out", "", "output directory")
	fs.Parse(args)
	return prep(*out, *docs, *queries)
}

// ---- irflow child commands --------------------------------------------------

// readVectors streams a JSONL vector file through dict.
func readVectors(path string, dict *jsonvec.Dict) (func(func(index.Doc, error) bool), func() error, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return jsonvec.Read(bufio.NewReaderSize(f, 1<<20), path, dict), f.Close, nil
}

// indexCmd builds the irflow index of a prepared corpus's vectors.jsonl at
// scale 1 (its weights are integers already) and saves the token ids.
func indexCmd(args []string) error {
	fs := flag.NewFlagSet("index", flag.ExitOnError)
	vectors := fs.String("vectors", "", "vectors.jsonl of a prepared corpus")
	out := fs.String("out", "", "output directory (replaced)")
	mem := fs.Float64("memory-mb", 256, "memory budget")
	vocab := fs.Int("vocab", 30522, "vocabulary size bound")
	fs.Parse(args)
	os.RemoveAll(*out)
	var dict jsonvec.Dict
	docs, closeFn, err := readVectors(*vectors, &dict)
	if err != nil {
		return err
	}
	defer closeFn()
	m, err := index.Build(context.Background(), docs, filepath.Join(*out, "index"), index.BuildOptions{
		VocabSize: *vocab, Scale: 1, MemoryBudget: int64(*mem * (1 << 20)), Threads: 1})
	if err != nil {
		return err
	}
	var sb strings.Builder
	for i := range dict.Len() {
		sb.WriteString(dict.Token(uint32(i)))
		sb.WriteByte('\n')
	}
	fmt.Printf("docs=%d postings=%d\n", m.NumDocs, m.NumPostings)
	return os.WriteFile(filepath.Join(*out, "vocab.txt"), []byte(sb.String()), 0o644)
}

// loadQueries reads a prepared corpus's queries.jsonl with the index's
// token ids; tokens no document has are dropped (they match nothing).
func loadQueries(path, vocabPath string, vocabSize int) ([]search.Query, error) {
	b, err := os.ReadFile(vocabPath)
	if err != nil {
		return nil, err
	}
	var dict jsonvec.Dict
	for _, tok := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		dict.ID(tok)
	}
	known := dict.Len()
	qs, closeFn, err := readVectors(path, &dict)
	if err != nil {
		return nil, err
	}
	defer closeFn()
	var out []search.Query
	for q, err := range qs {
		if err != nil {
			return nil, err
		}
		sq := search.Query{ID: q.ID}
		for i, t := range q.Terms {
			if int(t) < known && int(t) < vocabSize {
				sq.Terms = append(sq.Terms, t)
				sq.Weights = append(sq.Weights, q.Weights[i])
			}
		}
		out = append(out, sq)
	}
	return out, nil
}

// latencyCmd searches every query twice on one thread (the first pass
// warms the page cache, as the Java harness warms its JIT) and reports the
// second pass.
func latencyCmd(args []string) error {
	fs := flag.NewFlagSet("latency", flag.ExitOnError)
	dir := fs.String("index", "", "directory written by index")
	queries := fs.String("queries", "", "queries.jsonl of a prepared corpus")
	k := fs.Int("k", 1000, "hits")
	runOut := fs.String("run", "", "write the timed pass as a TREC run")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the timed pass")
	fs.Parse(args)
	ix, err := index.Open(filepath.Join(*dir, "index"))
	if err != nil {
		return err
	}
	defer ix.Close()
	qs, err := loadQueries(*queries, filepath.Join(*dir, "vocab.txt"), ix.Meta().VocabSize)
	if err != nil {
		return err
	}
	s := search.NewSearcher(ix)
	results := make([][]search.Hit, len(qs))
	wall, cpu, err := benchproc.TimeQueries(len(qs), *cpuprofile, func(i int) (err error) {
		results[i], err = s.Search(qs[i], search.Options{K: *k})
		return err
	})
	if err != nil {
		return err
	}
	if *runOut != "" {
		if err := writeRun(*runOut, qs, results); err != nil {
			return err
		}
	}
	fmt.Println(benchproc.LatencyLine(len(qs), wall.Mean, wall.P50, wall.P99), benchproc.CPULine(cpu))
	return nil
}

func writeRun(path string, qs []search.Query, results [][]search.Hit) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i, hits := range results {
		for r, h := range hits {
			fmt.Fprintf(w, "%s Q0 %s %d %v irflow\n", qs[i].ID, h.ID, r+1, h.Score)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

// ---- side by side -----------------------------------------------------------

type result struct {
	Corpus          string            `json:"corpus"`
	System          string            `json:"system"`
	Docs            int               `json:"docs"`
	IndexSeconds    float64           `json:"index_seconds"`
	DocsPerSecond   float64           `json:"docs_per_second"`
	IndexCPUSeconds float64           `json:"index_cpu_seconds"`
	IndexBytes      int64             `json:"index_bytes"`
	IndexPeakRSS    int64             `json:"index_peak_rss_bytes"`
	Top1000         benchproc.Latency `json:"top1000_wall_ms"`
	Top10           benchproc.Latency `json:"top10_wall_ms"`
	CPU1000         benchproc.Latency `json:"top1000_cpu_ms"`
	CPU10           benchproc.Latency `json:"top10_cpu_ms"`
	MemoryBudgetMiB float64           `json:"memory_budget_mib,omitempty"`
	Note            string            `json:"note,omitempty"`
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<30)
	n := 0
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}

func compare(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ExitOnError)
	docs := fs.Int("docs", 1_000_000, "documents of the synthetic corpus (0: skip it)")
	scifact := fs.String("scifact", "", "SciFact splade-tiny vectors as scripts/oracle/neural/retrieve.py --vectors-out writes them (docs.jsonl, queries.jsonl, queries.tsv; integer weights × 100)")
	memMB := fs.Float64("memory-mb", 256, "irflow index memory budget")
	skipAnserini := fs.Bool("skip-anserini", false, "leave Anserini out")
	skipPISA := fs.Bool("skip-pisa", false, "leave PISA out")
	fs.Parse(args)
	out := "bench-out/sparse"
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	type corpus struct{ name, vectors, queries, topics string }
	prepared := func(name, dir string) corpus {
		return corpus{name, filepath.Join(dir, "vectors.jsonl"), filepath.Join(dir, "queries.jsonl"), filepath.Join(dir, "topics.tsv")}
	}
	var corpora []corpus
	if *scifact != "" {
		// The oracle's files are a prepared corpus under other names.
		corpora = append(corpora, corpus{"scifact", filepath.Join(*scifact, "docs.jsonl"), filepath.Join(*scifact, "queries.jsonl"), filepath.Join(*scifact, "queries.tsv")})
	}
	if *docs > 0 {
		name := fmt.Sprintf("synth-%d", *docs)
		dir := filepath.Join(out, name)
		if _, err := os.Stat(filepath.Join(dir, "topics.tsv")); err != nil {
			fmt.Fprintf(os.Stderr, "generating %d synthetic documents in %s …\n", *docs, dir)
			if err := genSynth(dir, *docs, 1000); err != nil {
				return err
			}
		}
		corpora = append(corpora, prepared(name, dir))
	}
	pisaPy := ".cache/venv-pisa/bin/python"
	if _, err := os.Stat(pisaPy); err != nil && !*skipPISA {
		fmt.Fprintln(os.Stderr, "PISA left out: .cache/venv-pisa is missing (bash scripts/bench/sparsebench/setup-pisa.sh)")
		*skipPISA = true
	}
	var results []result
	for _, c := range corpora {
		vectors, queries, topics := c.vectors, c.queries, c.topics
		n, err := countLines(vectors)
		if err != nil {
			return err
		}
		// irflow
		fmt.Fprintf(os.Stderr, "%s: irflow index …\n", c.name)
		ixDir := filepath.Join(out, c.name+"-irflow")
		m, err := benchproc.RunChild(self, "index", "-vectors", vectors, "-out", ixDir, "-memory-mb", fmt.Sprint(*memMB))
		if err != nil {
			return err
		}
		r := result{Corpus: c.name, System: "irflow", Docs: n, IndexSeconds: m.Wall.Seconds(), DocsPerSecond: float64(n) / m.Wall.Seconds(),
			IndexCPUSeconds: m.CPU.Seconds(), IndexBytes: benchproc.DirSize(filepath.Join(ixDir, "index")), IndexPeakRSS: m.MaxRSS, MemoryBudgetMiB: *memMB}
		for _, k := range []int{1000, 10} {
			fmt.Fprintf(os.Stderr, "%s: irflow latency k=%d …\n", c.name, k)
			lm, err := benchproc.RunChild(self, "latency", "-index", ixDir, "-queries", queries, "-k", fmt.Sprint(k), "-run", filepath.Join(out, fmt.Sprintf("%s-irflow-top%d.trec", c.name, k)))
			if err != nil {
				return err
			}
			if err := record(&r, k, lm.Out); err != nil {
				return err
			}
		}
		results = append(results, r)

		if !*skipAnserini {
			name := "sparse-" + c.name
			fmt.Fprintf(os.Stderr, "%s: Anserini index …\n", c.name)
			m, err := benchproc.RunChild("bash", "scripts/bench/anserini.sh", "impact-index", name, vectors, "1")
			if err != nil {
				return err
			}
			ar := result{Corpus: c.name, System: "anserini", Docs: n, IndexSeconds: m.Wall.Seconds(), DocsPerSecond: float64(n) / m.Wall.Seconds(),
				IndexCPUSeconds: m.CPU.Seconds(), IndexBytes: benchproc.DirSize(filepath.Join("bench-out/anserini", name+"-impact")), IndexPeakRSS: m.MaxRSS}
			for _, k := range []int{1000, 10} {
				fmt.Fprintf(os.Stderr, "%s: Anserini latency k=%d …\n", c.name, k)
				run := filepath.Join(out, fmt.Sprintf("%s-anserini-top%d.trec", c.name, k))
				lm, err := benchproc.RunChild("bash", "scripts/bench/anserini.sh", "impact-latency", name, topics, fmt.Sprint(k), run)
				if err != nil {
					return err
				}
				if err := record(&ar, k, lm.Out); err != nil {
					return err
				}
			}
			ar.Note = agreement(filepath.Join(out, c.name+"-irflow-top10.trec"), filepath.Join(out, c.name+"-anserini-top10.trec"))
			results = append(results, ar)
		}
		if !*skipPISA {
			pr, err := runPISA(pisaPy, c.name, vectors, queries, out, n)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: PISA failed: %v\n", c.name, err)
			} else {
				pr.Note = agreement(filepath.Join(out, c.name+"-irflow-top10.trec"), filepath.Join(out, c.name+"-pisa-top10.trec"))
				results = append(results, pr)
			}
		}
	}
	var names []string
	for _, c := range corpora {
		names = append(names, c.name)
	}
	js, _ := json.MarshalIndent(results, "", "  ")
	os.WriteFile(filepath.Join(out, "results-"+strings.Join(names, "+")+".json"), append(js, '\n'), 0o644)
	printTable(os.Stdout, results)
	return nil
}

// record stores a harness's wall and CPU latencies for k.
func record(r *result, k int, out string) error {
	l, err := benchproc.ParseLatency(out)
	if err != nil {
		return err
	}
	c, err := benchproc.ParseCPU(out)
	if err != nil {
		return err
	}
	if k == 10 {
		r.Top10, r.CPU10 = l, c
	} else {
		r.Top1000, r.CPU1000 = l, c
	}
	return nil
}

// runPISA indexes and searches with PISA through pyterrier-pisa
// (scripts/bench/sparsebench/pisa.py), one thread.
func runPISA(py, name, vectors, queries, out string, n int) (result, error) {
	ixDir := filepath.Join(out, name+"-pisa")
	fmt.Fprintf(os.Stderr, "%s: PISA index …\n", name)
	m, err := benchproc.RunChild(py, "scripts/bench/sparsebench/pisa.py", "index", vectors, ixDir)
	if err != nil {
		return result{}, err
	}
	r := result{Corpus: name, System: "pisa", Docs: n, IndexSeconds: m.Wall.Seconds(), DocsPerSecond: float64(n) / m.Wall.Seconds(),
		IndexCPUSeconds: m.CPU.Seconds(), IndexBytes: benchproc.DirSize(ixDir), IndexPeakRSS: m.MaxRSS}
	for _, k := range []int{1000, 10} {
		fmt.Fprintf(os.Stderr, "%s: PISA latency k=%d …\n", name, k)
		lm, err := benchproc.RunChild(py, "scripts/bench/sparsebench/pisa.py", "latency", ixDir, queries, fmt.Sprint(k),
			filepath.Join(out, fmt.Sprintf("%s-pisa-top%d.trec", name, k)))
		if err != nil {
			return result{}, err
		}
		if err := record(&r, k, lm.Out); err != nil {
			return result{}, err
		}
	}
	return r, nil
}

// agreement compares two top-10 runs rank by rank: the share of (query,
// rank) positions with the same score (the same quantised dot product;
// equal scores may order their documents differently, by id or by
// document number).
func agreement(a, b string) string {
	read := func(path string) (map[string][]string, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		m := map[string][]string{}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) >= 5 {
				m[f[0]] = append(m[f[0]], f[4])
			}
		}
		return m, sc.Err()
	}
	ra, err := read(a)
	if err != nil {
		return err.Error()
	}
	rb, err := read(b)
	if err != nil {
		return err.Error()
	}
	same, total := 0, 0
	for q, sa := range ra {
		sb := rb[q]
		for i := range sa {
			total++
			if i < len(sb) && sameScore(sa[i], sb[i]) {
				same++
			}
		}
	}
	return fmt.Sprintf("top-10 scores equal to irflow's at %d of %d (query, rank) positions", same, total)
}

func sameScore(a, b string) bool {
	var x, y float64
	if _, err := fmt.Sscan(a, &x); err != nil {
		return false
	}
	if _, err := fmt.Sscan(b, &y); err != nil {
		return false
	}
	return x == y
}

func printTable(w io.Writer, rs []result) {
	fmt.Fprintf(w, "\n%-14s %-9s %8s %9s %9s %8s | %27s | %27s | %19s | %19s\n", "corpus", "system", "docs", "docs/s", "index MiB", "peak RSS",
		"top-1000 wall mean/p50/p99", "top-10 wall mean/p50/p99", "top-1000 CPU mean/p99", "top-10 CPU mean/p99")
	byKey := map[string]result{}
	for _, r := range rs {
		byKey[r.Corpus+"/"+r.System] = r
		fmt.Fprintf(w, "%-14s %-9s %8d %9.0f %9.1f %7.0fM | %8.3f %8.3f %9.3f | %8.3f %8.3f %9.3f | %9.3f %9.3f | %9.3f %9.3f\n", r.Corpus, r.System, r.Docs, r.DocsPerSecond,
			float64(r.IndexBytes)/(1<<20), float64(r.IndexPeakRSS)/(1<<20), r.Top1000.Mean, r.Top1000.P50, r.Top1000.P99, r.Top10.Mean, r.Top10.P50, r.Top10.P99,
			r.CPU1000.Mean, r.CPU1000.P99, r.CPU10.Mean, r.CPU10.P99)
	}
	fmt.Fprintf(w, "\nanchor / irflow (≥ 1.0: irflow at least as good; docs/s as irflow / anchor):\n")
	fmt.Fprintf(w, "%-14s %-9s %7s %7s %7s | %7s %7s %7s | %7s %7s | %7s %7s | %7s %7s\n", "corpus", "anchor", "docs/s", "size", "RSS",
		"k1000", "p50", "p99", "k10", "p99", "cpu1000", "p99", "cpu10", "p99")
	for _, r := range rs {
		if r.System == "irflow" {
			continue
		}
		i, ok := byKey[r.Corpus+"/irflow"]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "%-14s %-9s %6.2fx %6.2fx %6.2fx | %6.2fx %6.2fx %6.2fx | %6.2fx %6.2fx | %6.2fx %6.2fx | %6.2fx %6.2fx\n", r.Corpus, r.System,
			i.DocsPerSecond/r.DocsPerSecond, float64(r.IndexBytes)/float64(i.IndexBytes), float64(r.IndexPeakRSS)/float64(i.IndexPeakRSS),
			r.Top1000.Mean/i.Top1000.Mean, r.Top1000.P50/i.Top1000.P50, r.Top1000.P99/i.Top1000.P99, r.Top10.Mean/i.Top10.Mean, r.Top10.P99/i.Top10.P99,
			r.CPU1000.Mean/i.CPU1000.Mean, r.CPU1000.P99/i.CPU1000.P99, r.CPU10.Mean/i.CPU10.Mean, r.CPU10.P99/i.CPU10.P99)
		if r.Note != "" {
			fmt.Fprintf(w, "  %s: %s\n", r.System, r.Note)
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Fprintf(w, "load average at the end: %s", b)
	}
}
