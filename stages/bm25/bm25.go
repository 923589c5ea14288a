// Package bm25 registers the BM25 stage kinds: block `index` method "bm25"
// (documents → index/bm25 directory) and block `search` method "bm25"
// (index + queries → TREC run), both the defaults of their blocks. It is
// glue: reading collections (ir/collection), analysis (analysis), the
// index (index/bm25), search (search/bm25) and writing runs (ir/trec).
package bm25

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"

	"github.com/irflow/irflow/analysis"
	index "github.com/irflow/irflow/index/bm25"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/textio"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/pipeline/stage"
	search "github.com/irflow/irflow/search/bm25"
	"github.com/irflow/irflow/stages/components"
)

// Method is the method name of both kinds.
const Method = "bm25"

// Field layouts of the index kind.
const (
	// LayoutFlat indexes one field "contents": for JSONL the title, a
	// newline and the text (Pyserini's BEIR "flat" index); for TSV the text.
	LayoutFlat = "flat"
	// LayoutMultifield indexes "contents" (the text) and "title"
	// separately (Pyserini's BEIR "multifield" index).
	LayoutMultifield = "multifield"
)

// Format is the format of the index output: index/bm25 (index/bm25's
// on-disk layout, whose version enters the index stage's cache key).
const Format = "index/bm25"

// Field names an index of this kind can have.
const (
	FieldContents = "contents"
	FieldTitle    = "title"
)

func init() {
	stage.RegisterFormat(stage.Format{Name: Format, Version: strconv.Itoa(index.FormatVersion),
		Doc: "a BM25 index made by index method bm25", Sniff: isIndex})
	stage.Register(IndexKind())
	stage.Register(SearchKind())
	stage.SetDefault("index", Method)
	stage.SetDefault("search", Method)
}

// IndexKind describes the `index` block, method "bm25".
func IndexKind() *stage.Kind {
	return &stage.Kind{
		Block: "index", Method: Method, Version: 2,
		Uses: []string{components.Analysis},
		Doc:  "Builds a BM25 inverted index (Lucene-compatible norms) from TSV or BEIR JSONL documents.",
		Params: []stage.Param{
			{Name: "docs", Type: stage.Input, Required: true, Accepts: []string{stage.FormatDocs}, Doc: "Documents: id<TAB>text (.tsv) or BEIR JSONL (.jsonl), optionally .gz."},
			{Name: "fields", Type: stage.String, Default: LayoutFlat, Enum: []string{LayoutFlat, LayoutMultifield}, Doc: `"flat" (title and text in one field "contents") or "multifield" ("contents" = text, "title").`},
			{Name: "stemmer", Type: stage.String, Default: analysis.StemmerPorter, Enum: []string{analysis.StemmerPorter, analysis.StemmerSnowball, analysis.StemmerNone}, Doc: `"porter", "snowball" or "none".`},
			{Name: "stopwords", Type: stage.Bool, Default: true, Doc: "Remove Lucene's 33 English stop words."},
			{Name: "memory_mb", Type: stage.Number, Default: 512.0, Min: stage.Above(0), Meta: true, Doc: "Memory budget of the build, in MiB: postings are spilled to sorted runs and the Go heap is limited so that peak RSS stays within it."},
		},
		Outputs: []stage.Output{{Name: "index", Path: "index/", Format: Format, Doc: "The index directory (docs/bm25.md)."}},
		Run:     runIndex,
	}
}

// SearchKind describes the `search` block, method "bm25".
func SearchKind() *stage.Kind {
	return &stage.Kind{
		Block: "search", Method: Method, Version: 1,
		Uses: []string{components.Analysis}, // queries are analysed as the index's documents were
		Doc:  "Exact top-k BM25 retrieval (Lucene BM25Similarity scores and Anserini's tie order) for every query.",
		Params: []stage.Param{
			{Name: "index", Type: stage.Input, Required: true, Accepts: []string{Format}, Doc: "An index made by index method bm25."},
			{Name: "queries", Type: stage.Input, Required: true, Accepts: []string{stage.FormatQueries}, Doc: "Queries: id<TAB>text (.tsv) or BEIR JSONL."},
			{Name: "k", Type: stage.Number, Default: 1000.0, Integer: true, Min: stage.Above(0), Doc: "Hits per query."},
			{Name: "k1", Type: stage.Number, Default: search.DefaultK1, Min: stage.AtLeast(0)},
			{Name: "b", Type: stage.Number, Default: search.DefaultB, Min: stage.AtLeast(0), Max: stage.AtMost(1)},
			{Name: "fields", Type: stage.StringMap, Default: map[string]string{}, Check: checkBoosts, Doc: `Field boosts, e.g. { contents = "1.0", title = "1.0" }; empty = every field, boost 1. Fields are "contents" and, in a multifield index, "title"; boosts are numbers ≥ 0.`},
			{Name: "remove_query", Type: stage.Bool, Default: false, Doc: "Drop a hit whose id equals the query id (Pyserini's --remove-query for BEIR)."},
			// No defaults: absent, they are not in the cache key, so recipes
			// written before they existed keep their keys.
			{Name: "ties", Type: stage.String, Enum: []string{TiesTrecEval, TiesAnserini}, Doc: `How the run is written; absent = "trec_eval": exact float32 scores, hits in trec_eval's order (score descending, then id descending), queries in file order. "anserini": as Anserini 1.5.0's SearchCollection writes it (its regression runs): Lucene's ranking (score descending, then id ascending), scores rounded to 4 decimals and lowered by 1e-6 per earlier member of a tie, printed with 6 decimals, queries in id order. Evaluated, the run then gives Anserini's numbers to the last digit (docs/bm25.md).`},
			{Name: "tag", Type: stage.String, Check: checkTag, Doc: `Run tag, the last column; absent = "irflow-bm25". With ties = "anserini" and tag = "Anserini" the run file is byte for byte Anserini's.`},
		},
		Outputs: []stage.Output{{Name: "run", Path: "run.trec", Format: stage.FormatRun, Doc: "TREC run, trec_eval order."}},
		Run:     runSearch,
	}
}

// Values of the search kind's ties parameter.
const (
	// TiesTrecEval writes exact scores in trec_eval's order (the default).
	TiesTrecEval = "trec_eval"
	// TiesAnserini writes Anserini's SearchCollection output.
	TiesAnserini = "anserini"
)

// checkTag refuses a tag a run line cannot hold.
func checkTag(v any) error {
	if why := textio.CheckID(v.(string)); why != "" {
		return fmt.Errorf("run tag: %s", why)
	}
	return nil
}

// checkBoosts refuses field names no bm25 index has and boosts that are
// not finite numbers ≥ 0.
func checkBoosts(v any) error {
	m, _ := v.(map[string]string)
	for _, f := range slices.Sorted(maps.Keys(m)) {
		if f != FieldContents && f != FieldTitle {
			return &stage.ElementError{Key: f, Err: fmt.Errorf("a bm25 index has no field %q: its fields are %q and, if multifield, %q", f, FieldContents, FieldTitle)}
		}
		b, err := strconv.ParseFloat(m[f], 32)
		if err != nil || !(b >= 0) || math.IsInf(b, 0) {
			return &stage.ElementError{Key: f, Err: fmt.Errorf("fields[%q] = %q: a boost is a number ≥ 0", f, m[f])}
		}
	}
	return nil
}

// isIndex recognises an index directory (or a stage output holding one
// in index/) by its meta.json.
func isIndex(dir string) bool {
	for _, d := range []string{dir, filepath.Join(dir, "index")} {
		b, err := os.ReadFile(filepath.Join(d, "meta.json"))
		if err != nil {
			continue
		}
		var m struct {
			Format string `json:"format"`
		}
		if json.Unmarshal(b, &m) == nil && m.Format == index.FormatName {
			return true
		}
	}
	return false
}

// analyzerConfig reads the analysis options of the index kind.
func analyzerConfig(job *stage.Job) analysis.Config {
	return analysis.Config{Stemmer: job.String("stemmer"), KeepStopwords: !job.Bool("stopwords")}
}

// configFromMeta re-creates the analysis config stored in an index.
func configFromMeta(m map[string]any) analysis.Config {
	var c analysis.Config
	c.Stemmer, _ = m["stemmer"].(string)
	c.KeepStopwords, _ = m["keep_stopwords"].(bool)
	return c
}

// runIndex builds the index. The loader has checked fields and stemmer
// against their declarations.
func runIndex(ctx context.Context, job *stage.Job) error {
	layout := job.String("fields")
	fields := []string{FieldContents}
	if layout == LayoutMultifield {
		fields = []string{FieldContents, FieldTitle}
	}
	cfg := analyzerConfig(job)
	docsPath := job.String("docs")
	format := collection.FormatOf(docsPath)
	if layout == LayoutMultifield && format != collection.JSONL {
		return fmt.Errorf("%s: fields = %q needs BEIR JSONL documents with titles; %s is TSV", job.Address, layout, docsPath)
	}
	dr, closer, err := collection.OpenDocs(docsPath)
	if err != nil {
		return err
	}
	defer closer.Close()

	outDir := filepath.Join(job.OutDir, "index")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	var prog stage.Progress
	if job.Progress != nil {
		prog = job.Progress("indexing documents", -1)
		defer prog.Done()
	}
	opts := index.BuildOptions{
		Fields:           fields,
		NewAnalyzer:      func() (index.Analyzer, error) { return analysis.New(cfg) },
		AnalyzerIdentity: cfg.Identity(),
		AnalyzerConfig:   map[string]any{"stemmer": cfg.Stemmer, "keep_stopwords": cfg.KeepStopwords},
		MemoryBudget:     int64(job.Float("memory_mb") * (1 << 20)),
		CheckpointDir:    job.CheckpointDir,
		Threads:          job.Threads,
	}
	if prog != nil {
		opts.Progress = prog.Add
	}
	if opts.CheckpointDir == "" {
		tmp, err := os.MkdirTemp("", "irflow-bm25-runs-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		opts.CheckpointDir = tmp
	}
	// Hold the Go runtime under the budget while building (the GC collects
	// earlier instead of letting the heap double), leaving a reserve for
	// what the runtime does not count: the binary's pages, file pages of
	// the runs being merged. Restored afterwards.
	if budget := opts.MemoryBudget; budget > 0 {
		limit := budget - min(32<<20, budget/4)
		if old := debug.SetMemoryLimit(-1); limit < old {
			debug.SetMemoryLimit(limit)
			defer debug.SetMemoryLimit(old)
		}
	}
	meta, err := index.Build(ctx, documents(dr, format, layout), outDir, opts)
	var dup *index.DuplicateIDError
	if errors.As(err, &dup) {
		return duplicateLines(docsPath, dup)
	}
	if err != nil {
		return err
	}
	job.SetMetric("docs", float64(meta.NumDocs))
	if job.Log != nil {
		job.Log.Info("indexed", "docs", meta.NumDocs, "terms", meta.Fields[0].NumTerms)
	}
	return nil
}

// duplicateLines re-reads the documents to say on which lines a duplicate
// id occurs (the builder only knows document numbers).
func duplicateLines(path string, dup *index.DuplicateIDError) error {
	dr, closer, err := collection.OpenDocs(path)
	if err != nil {
		return dup
	}
	defer closer.Close()
	first := 0
	for n := 0; n <= dup.Second; n++ {
		if _, err := dr.Next(); err != nil {
			return dup
		}
		if n == dup.First {
			first = dr.Line()
		}
	}
	return fmt.Errorf("%s:%d: duplicate document id %q (first on line %d)", path, dr.Line(), dup.ID, first)
}

// documents adapts a DocReader to the index builder.
func documents(dr *collection.DocReader, format collection.Format, layout string) iter.Seq2[index.Document, error] {
	return func(yield func(index.Document, error) bool) {
		for {
			d, err := dr.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(index.Document{}, err)
				return
			}
			var fields []string
			switch {
			case layout == LayoutMultifield:
				fields = []string{d.Text, d.Title}
			case format == collection.JSONL:
				fields = []string{d.Title + "\n" + d.Text} // as Anserini's BeirFlatCollection
			default:
				fields = []string{d.Text}
			}
			if !yield(index.Document{ID: d.ID, Fields: fields}, nil) {
				return
			}
		}
	}
}

func runSearch(ctx context.Context, job *stage.Job) error {
	ixDir := job.String("index")
	// An `index` output is a directory holding index/ (the stage output
	// path) or the index files themselves.
	if _, err := os.Stat(filepath.Join(ixDir, "meta.json")); err != nil {
		if _, err2 := os.Stat(filepath.Join(ixDir, "index", "meta.json")); err2 == nil {
			ixDir = filepath.Join(ixDir, "index")
		}
	}
	ix, err := index.Open(ixDir)
	if err != nil {
		return err
	}
	defer ix.Close()
	cfg := configFromMeta(ix.Meta.AnalyzerConfig)
	if cfg.Identity() != ix.Meta.Analyzer {
		return fmt.Errorf("%s: index %s was built with analyzer %q, which this irflow cannot re-create (it has %q)", job.Address, ixDir, ix.Meta.Analyzer, cfg.Identity())
	}
	k := job.Int("k")
	params := search.Params{K1: float32(job.Float("k1")), B: float32(job.Float("b"))}
	boosts := job.StringMap("fields")
	names := make([]string, 0, len(boosts))
	for f := range boosts {
		names = append(names, f)
	}
	sort.Strings(names)
	for _, f := range names {
		v, err := strconv.ParseFloat(boosts[f], 32)
		if err != nil {
			return fmt.Errorf("%s: fields[%q] = %q is not a number", job.Address, f, boosts[f])
		}
		params.Fields = append(params.Fields, search.FieldBoost{Field: f, Boost: float32(v)})
	}
	s, err := search.NewSearcher(ix, params)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	qs, err := collection.ReadQueriesFile(job.String("queries"))
	if err != nil {
		return err
	}
	queries := make([]search.Query, len(qs))
	for i, q := range qs {
		queries[i] = search.Query{ID: q.ID, Text: q.Text}
	}
	anserini := job.String("ties") == TiesAnserini
	opts := search.BatchOptions{K: k, Threads: job.Threads, RemoveQuery: job.Bool("remove_query"),
		AdjustScoreTies: anserini,
		NewAnalyzer:     func() (search.Analyzer, error) { return analysis.New(cfg) }}
	if job.Progress != nil {
		p := job.Progress("searching", int64(len(queries)))
		defer p.Done()
		opts.Progress = p.Add
	}
	results, err := s.SearchAll(ctx, queries, opts)
	if err != nil {
		return err
	}
	tag := RunTag
	if t := job.String("tag"); t != "" {
		tag = t
	}
	return writeRun(filepath.Join(job.OutDir, "run.trec"), tag, anserini, queries, results)
}

// RunTag is the default tag column of the runs the search kind writes.
const RunTag = "irflow-bm25"

// writeRun writes the run in trec_eval's order with exact scores, or, for
// ties = "anserini", in Anserini's form (hits as ranked, adjusted scores).
func writeRun(path, tag string, anserini bool, queries []search.Query, results [][]search.Hit) error {
	qids := make([]string, len(queries))
	for i, q := range queries {
		qids[i] = q.ID
	}
	write := trec.WriteRunFileOrdered
	if anserini {
		write = trec.WriteRunFileAnserini
	}
	return write(path, tag, qids, func(i int) []trec.Hit {
		hits := make([]trec.Hit, len(results[i]))
		for j, h := range results[i] {
			hits[j] = trec.Hit{DocID: h.ID, Score: float64(h.Score)}
		}
		return hits
	})
}
