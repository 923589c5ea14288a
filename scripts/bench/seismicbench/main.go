// Command seismicbench measures irflow's Seismic index (index/seismic,
// search/seismic) against pyseismic-lsr on the same quantised vectors,
// with the same build parameters, operating points and threads: build
// time, then at each (query_cut, heap_factor) the single-thread latency
// per query and recall@k against exact search (search/sparse).
//
//	go run ./scripts/bench/seismicbench compare -data NAME=DIR[,NAME=DIR] [-k 10]
//	    [-points 3:1,5:0.9,10:0.7,20:0.5] [-num-postings 3500] [-centroid-fraction 0.1]
//	    [-min-cluster-size 2] [-summary-energy 0.4] [-doc-cut 15] [-threads 1] [-anchor=true]
//	    [-rounds 3] [-reuse] [-save-anchor=true] [-search-cpuprofile FILE]
//
// A data directory is a prepared corpus of scripts/bench/sparsebench
// (prep or gen-synth): vectors.jsonl (integer weights) and queries.jsonl.
// irflow indexes the integers as they are (scale 1), as pyseismic reads
// them. Outputs go under bench-out/seismicbench (git-ignored). pyseismic
// runs as a child process (seismic_anchor.py, .cache/venv-seismic:
// ./task setup:seismic) that builds its index, or loads the one it saved
// on an earlier run with the same vectors and parameters, and then
// searches on command: the two systems' rounds alternate (-rounds, which
// goes first alternating too) and each keeps its least CPU time per
// query, so that both are timed under the same load. -reuse searches
// irflow's indexes of an earlier run (search only, no build).
package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"time"

	seismicx "github.com/irflow/irflow/index/seismic"
	index "github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/index/sparse/jsonvec"
	"github.com/irflow/irflow/scripts/bench/internal/benchproc"
	"github.com/irflow/irflow/scripts/bench/internal/qpsplot"
	seismics "github.com/irflow/irflow/search/seismic"
	sparses "github.com/irflow/irflow/search/sparse"
)

func main() {
	if len(os.Args) < 2 || os.Args[1] != "compare" {
		fmt.Fprintln(os.Stderr, "usage: seismicbench compare -data NAME=DIR [flags]")
		os.Exit(2)
	}
	if err := compare(os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "seismicbench:", err)
		os.Exit(1)
	}
}

type point struct {
	cut int
	hf  float64
}

// row is one system at one operating point.
type row struct {
	data, system string
	p            point
	recall       float64
	lat          benchproc.Latency
	cpuMs        float64 // mean CPU time per query
	batchMs      float64
}

func compare(args []string) error {
	fs := flag.NewFlagSet("compare", flag.ExitOnError)
	data := fs.String("data", "", "NAME=DIR,... prepared corpora (vectors.jsonl, queries.jsonl)")
	k := fs.Int("k", 10, "hits (recall@k against exact search)")
	pointsFlag := fs.String("points", "3:1,5:0.9,10:0.7,20:0.5", "operating points query_cut:heap_factor,...")
	o := seismicx.Options{}
	fs.IntVar(&o.NumPostings, "num-postings", seismicx.DefaultNumPostings, "postings kept per term")
	fs.StringVar(&o.Pruning, "pruning", seismicx.PruneFixed, "irflow's pruning rule: fixed or global_threshold (pyseismic's; its index goes to seismic-global_threshold/, built there with -reuse when missing)")
	fs.Float64Var(&o.MaxFraction, "max-fraction", 0, "with -pruning global_threshold: at most num_postings × max_fraction postings a term (0 = 1.5)")
	fs.Float64Var(&o.CentroidFraction, "centroid-fraction", seismicx.DefaultCentroidFraction, "centroids per kept posting")
	fs.IntVar(&o.MinClusterSize, "min-cluster-size", seismicx.DefaultMinClusterSize, "clusters of at most this size are dissolved")
	fs.Float64Var(&o.SummaryEnergy, "summary-energy", seismicx.DefaultSummaryEnergy, "summary L1 mass kept")
	fs.IntVar(&o.DocCut, "doc-cut", seismicx.DefaultDocCut, "document coordinates compared while clustering")
	fs.IntVar(&o.Threads, "threads", 1, "build threads (search is timed on one)")
	anchor := fs.Bool("anchor", true, "run pyseismic-lsr too")
	py := fs.String("python", ".cache/venv-seismic/bin/python", "python of the anchor")
	profile := fs.String("cpuprofile", "", "write a CPU profile of irflow's builds")
	fs.StringVar(&searchProfile, "search-cpuprofile", "", "write a CPU profile of irflow's search at the last point")
	fs.BoolVar(&reuse, "reuse", false, "search only: reuse irflow's indexes and exact top k of an earlier run")
	saveAnchor := fs.Bool("save-anchor", true, "keep pyseismic's index (bench-out/seismicbench/NAME/pyseismic.index.seismic) and load it when vectors and parameters are the same")
	fs.IntVar(&rounds, "rounds", 3, "rounds at each point, irflow's and pyseismic's interleaved; the least CPU of each is kept (a profile is of irflow's last)")
	fs.Parse(args)
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		buildProfile = f
	}
	var points []point
	for _, s := range strings.Split(*pointsFlag, ",") {
		c, h, ok := strings.Cut(s, ":")
		cut, err1 := strconv.Atoi(c)
		hf, err2 := strconv.ParseFloat(h, 64)
		if !ok || err1 != nil || err2 != nil {
			return fmt.Errorf("-points: %q is not query_cut:heap_factor", s)
		}
		points = append(points, point{cut, hf})
	}
	var rows []row
	var names []string
	for _, nd := range strings.Split(*data, ",") {
		name, dir, ok := strings.Cut(nd, "=")
		if !ok {
			return fmt.Errorf("-data: %q is not NAME=DIR", nd)
		}
		names = append(names, name)
		out := filepath.Join("bench-out", "seismicbench", name)
		if err := os.MkdirAll(out, 0o755); err != nil {
			return err
		}
		fmt.Printf("%s: load average %s\n", name, benchproc.LoadAverage())
		ir, err := openIrflow(name, dir, out, *k, o)
		if err != nil {
			return err
		}
		var an *anchorRun
		if *anchor {
			if an, err = startAnchor(*py, name, dir, out, *k, o, *saveAnchor); err != nil {
				ir.Close()
				return err
			}
		}
		rs, err := interleave(name, *k, points, max(1, rounds), ir, an)
		ir.Close()
		if an != nil {
			if cerr := an.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			return err
		}
		fmt.Printf("%s: searched, load average %s\n", name, benchproc.LoadAverage())
		rows = append(rows, rs...)
	}
	fmt.Printf("\nk = %d, pruning %s, num_postings %d, centroid_fraction %v, min_cluster_size %d, summary_energy %v, doc_cut %d, build threads %d, search 1 thread; load average %s\n\n",
		*k, o.Pruning, o.NumPostings, o.CentroidFraction, o.MinClusterSize, o.SummaryEnergy, o.DocCut, o.Threads, benchproc.LoadAverage())
	fmt.Println("| data | system | query_cut | heap_factor | recall@k | CPU ms/query | mean ms/query | p50 ms | p99 ms | batch mean ms |")
	fmt.Println("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		batch := "–"
		if r.batchMs > 0 {
			batch = fmt.Sprintf("%.3f", r.batchMs)
		}
		fmt.Printf("| %s | %s | %d | %v | %.3f | %.3f | %.3f | %.3f | %.3f | %s |\n", r.data, r.system, r.p.cut, r.p.hf, r.recall, r.cpuMs, r.lat.Mean, r.lat.P50, r.lat.P99, batch)
	}
	if *anchor {
		equalRecall(names, *k, rows)
	}
	for _, name := range names {
		svg := filepath.Join("bench-out", "seismicbench", name, "qps-recall.svg")
		if err := plot(svg, name, *k, rows); err != nil {
			return err
		}
		fmt.Printf("# picture: %s\n", svg)
	}
	return nil
}

// equalRecall prints, at each of pyseismic's points, irflow's CPU time
// per query at the same recall, interpolated between irflow's two points
// around it (log CPU time linear in recall): the goal is compared at equal
// recall, and the two systems' recalls differ at equal parameters.
func equalRecall(names []string, k int, rows []row) {
	fmt.Printf("\nAt equal recall@%d: irflow's CPU ms/query interpolated at pyseismic's recall\n\n", k)
	fmt.Println("| data | query_cut | heap_factor | pyseismic recall@k | pyseismic CPU ms | irflow CPU ms at that recall | irflow / pyseismic |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, name := range names {
		var ir []row
		for _, r := range rows {
			if r.data == name && r.system == "irflow" {
				ir = append(ir, r)
			}
		}
		slices.SortFunc(ir, func(a, b row) int { return cmp.Compare(a.recall, b.recall) })
		for _, a := range rows {
			if a.data != name || a.system != "pyseismic-lsr" {
				continue
			}
			at, ratio := "–", "–"
			if ms, ok := interpolate(ir, a.recall); ok {
				at, ratio = fmt.Sprintf("%.3f", ms), fmt.Sprintf("%.2f", ms/a.cpuMs)
			}
			fmt.Printf("| %s | %d | %v | %.3f | %.3f | %s | %s |\n", name, a.p.cut, a.p.hf, a.recall, a.cpuMs, at, ratio)
		}
	}
}

// interpolate is the CPU time of rows (sorted by recall) at recall r, or
// false outside their range; of equal recalls it takes the cheapest.
func interpolate(rows []row, r float64) (float64, bool) {
	best := math.Inf(1)
	for i, a := range rows {
		if a.recall == r {
			best = min(best, a.cpuMs)
		}
		if i+1 < len(rows) && a.recall < r && r < rows[i+1].recall {
			b := rows[i+1]
			f := (r - a.recall) / (b.recall - a.recall)
			best = min(best, math.Exp(math.Log(a.cpuMs)+f*(math.Log(b.cpuMs)-math.Log(a.cpuMs))))
		}
	}
	return best, !math.IsInf(best, 1)
}

// plot draws recall@k against queries per CPU second (1000 / CPU ms per
// query: steadier than wall-clock QPS on a shared machine), one line per
// system, pyseismic-lsr dashed.
func plot(path, name string, k int, rows []row) error {
	var series []qpsplot.Series
	for _, sys := range []string{"irflow", "pyseismic-lsr"} {
		s := qpsplot.Series{Name: sys, Dashed: sys != "irflow"}
		for _, r := range rows {
			if r.data == name && r.system == sys && r.cpuMs > 0 {
				s.Points = append(s.Points, qpsplot.Point{Recall: r.recall, QPS: 1000 / r.cpuMs, Label: fmt.Sprintf("cut %d, hf %v", r.p.cut, r.p.hf)})
			}
		}
		if len(s.Points) > 0 {
			series = append(series, s)
		}
	}
	title := fmt.Sprintf("Seismic on %s: recall@%d vs queries per CPU second, 1 thread", name, k)
	return qpsplot.Write(path, title, fmt.Sprintf("recall@%d against exact search", k), "queries per CPU second (log)", series)
}

// buildProfile, if set, receives a CPU profile of the first build;
// searchProfile names one of the search at the last point.
var (
	buildProfile  *os.File
	searchProfile string
	reuse         bool
	rounds        int
)

// irflowRun is irflow's side of one corpus: its indexes open, the
// queries and the exact top k by query id.
type irflowRun struct {
	src   *index.Index
	ix    *seismicx.Index
	s     *seismics.Searcher
	qs    []sparses.Query
	exact map[string][]string
}

func (r *irflowRun) Close() {
	if r.ix != nil {
		r.ix.Close()
	}
	r.src.Close()
}

// openIrflow indexes the corpus exactly (scale 1), writes the exact top k
// for the anchor and builds the Seismic index; with -reuse it opens the
// indexes of an earlier run instead and reads its exact.tsv when there is
// one (search-only).
func openIrflow(name, dir, out string, k int, o seismicx.Options) (*irflowRun, error) {
	ctx := context.Background()
	var dict jsonvec.Dict
	// Token ids are given as the reader meets them (in map order): they
	// are saved beside the index for -reuse.
	sparseDir, vocabPath := filepath.Join(out, "sparse"), filepath.Join(out, "vocab.txt")
	if reuse {
		b, err := os.ReadFile(vocabPath)
		if err != nil {
			return nil, err
		}
		for _, tok := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
			dict.ID(tok)
		}
	} else {
		f, err := os.Open(filepath.Join(dir, "vectors.jsonl"))
		if err != nil {
			return nil, err
		}
		os.RemoveAll(sparseDir)
		_, err = index.Build(ctx, jsonvec.Read(bufio.NewReaderSize(f, 1<<20), f.Name(), &dict), sparseDir,
			index.BuildOptions{VocabSize: 1 << 20, Scale: 1, MemoryBudget: 1 << 30})
		f.Close()
		if err == nil {
			var sb strings.Builder
			for i := range dict.Len() {
				sb.WriteString(dict.Token(uint32(i)) + "\n")
			}
			err = os.WriteFile(vocabPath, []byte(sb.String()), 0o644)
		}
		if err != nil {
			return nil, err
		}
	}
	src, err := index.Open(sparseDir)
	if err != nil {
		return nil, err
	}
	r := &irflowRun{src: src}
	fail := func(err error) (*irflowRun, error) { r.Close(); return nil, err }
	dict.Frozen = true
	if r.qs, err = readQueries(filepath.Join(dir, "queries.jsonl"), &dict); err != nil {
		return fail(err)
	}
	exactPath := filepath.Join(out, "exact.tsv")
	if r.exact, err = readExact(exactPath); !reuse || err != nil {
		exact, err := sparses.SearchAll(ctx, src, r.qs, sparses.Options{K: k})
		if err != nil {
			return fail(err)
		}
		var sb strings.Builder
		r.exact = map[string][]string{}
		for i, hs := range exact {
			for _, h := range hs {
				fmt.Fprintf(&sb, "%s\t%s\n", r.qs[i].ID, h.ID)
				r.exact[r.qs[i].ID] = append(r.exact[r.qs[i].ID], h.ID)
			}
		}
		if err := os.WriteFile(exactPath, []byte(sb.String()), 0o644); err != nil {
			return fail(err)
		}
	}

	t0 := time.Now()
	if buildProfile != nil {
		pprof.StartCPUProfile(buildProfile)
	}
	var meta *seismicx.Meta
	seisDir := filepath.Join(out, "seismic")
	if o.Pruning == seismicx.PruneGlobalThreshold {
		seisDir += "-" + o.Pruning
	}
	_, missing := os.Stat(filepath.Join(seisDir, "meta.json"))
	built := !reuse || missing != nil
	if built {
		meta, err = seismicx.Build(ctx, seisDir, src, o)
	}
	pprof.StopCPUProfile()
	if err != nil {
		return fail(err)
	}
	build := time.Since(t0)
	t0 = time.Now()
	if r.ix, err = seismicx.Open(seisDir, src); err != nil {
		return fail(err)
	}
	if !built {
		mt := r.ix.Meta()
		meta = &mt
		fmt.Printf("%s irflow: %d docs, %d queries; opened the index of an earlier run (%.1f s), kept postings %d of %d, %d blocks, %d summary entries\n",
			name, meta.NumDocs, len(r.qs), time.Since(t0).Seconds(), meta.KeptPostings, meta.ForwardPostings, meta.NumBlocks, meta.NumSumEntries)
	} else {
		fmt.Printf("%s irflow: %d docs, %d queries; build %.1f s (%d threads), kept postings %d of %d, %d blocks, %d summary entries\n",
			name, meta.NumDocs, len(r.qs), build.Seconds(), o.Threads, meta.KeptPostings, meta.ForwardPostings, meta.NumBlocks, meta.NumSumEntries)
	}
	r.s = seismics.NewSearcher(r.ix)
	return r, nil
}

// search times one round at p: a warm pass, then the timed one (prof, if
// set, receives its CPU profile).
func (r *irflowRun) search(name string, k int, p point, prof string) (row, error) {
	got := make([][]sparses.Hit, len(r.qs))
	so := seismics.Options{K: k, QueryCut: p.cut, HeapFactor: p.hf, Sorted: true}
	wall, cpu, err := benchproc.TimeQueries(len(r.qs), prof, func(i int) (err error) {
		got[i], err = r.s.Search(r.qs[i], so)
		return err
	})
	if err != nil {
		return row{}, err
	}
	var sum float64
	for i, hs := range got {
		ids := make([]string, len(hs))
		for j, h := range hs {
			ids[j] = h.ID
		}
		sum += recallOf(r.exact[r.qs[i].ID], ids)
	}
	return row{data: name, system: "irflow", p: p, recall: sum / float64(len(got)), lat: wall, cpuMs: cpu.Mean}, nil
}

// readQueries reads queries.jsonl with the documents' token ids; tokens
// no document has are dropped (they match nothing).
func readQueries(path string, dict *jsonvec.Dict) ([]sparses.Query, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var qs []sparses.Query
	for n, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var l struct {
			ID     string             `json:"id"`
			QID    json.RawMessage    `json:"qid"`
			Vector map[string]float32 `json:"vector"`
		}
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			return nil, fmt.Errorf("%s:%d: %v", path, n+1, err)
		}
		if l.ID == "" {
			l.ID = strings.Trim(string(l.QID), `"`)
		}
		terms := map[uint32]float32{}
		for tok, w := range l.Vector {
			if id, ok := dict.ID(tok); ok && w > 0 {
				terms[id] = w
			}
		}
		q := sparses.Query{ID: l.ID}
		for t := range terms {
			q.Terms = append(q.Terms, t)
		}
		slices.Sort(q.Terms)
		for _, t := range q.Terms {
			q.Weights = append(q.Weights, terms[t])
		}
		qs = append(qs, q)
	}
	return qs, nil
}

// recallOf is the share of the exact top k (want) found in got.
func recallOf(want, got []string) float64 {
	n := 0
	for _, w := range want {
		if slices.Contains(got, w) {
			n++
		}
	}
	return float64(n) / float64(max(1, len(want)))
}

// readExact reads exact.tsv (qid<TAB>docid, best first).
func readExact(path string) (map[string][]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	exact := map[string][]string{}
	for n, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		q, d, ok := strings.Cut(line, "\t")
		if !ok {
			return nil, fmt.Errorf("%s:%d: %q is not qid<TAB>docid", path, n+1, line)
		}
		exact[q] = append(exact[q], d)
	}
	return exact, nil
}
