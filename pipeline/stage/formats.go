package stage

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Format is what an input or output is: a kind of file or directory that
// one stage writes and another reads. Outputs declare theirs
// (Output.Format), input parameters the ones they take (Param.Accepts),
// and the loader refuses a recipe that connects them wrongly. A format is
// also a Component: its Version enters the key of every stage writing it,
// so a new on-disk layout re-runs the stages that produce it (readers still
// check the version of what they open).
type Format struct {
	// Name is "docs", "run/trec", "index/bm25", …
	Name string
	// Version changes whenever the layout does.
	Version string
	// Doc is a noun phrase for messages and docs: "a BM25 index
	// (index method bm25)".
	Doc string
	// Sniff reports whether the file or directory at path is certainly of
	// this format, reading as little as it can (a header, one small file).
	// It must never claim what it is unsure of: the loader refuses a
	// sniffed input whose formats a parameter does not accept. Nil: the
	// format is never recognised from content.
	Sniff func(path string) bool
}

// Formats every irflow build knows. Collection attributes named docs or
// corpus, queries or topics, and qrels have the first three.
const (
	FormatDocs    = "docs"     // id<TAB>text TSV or BEIR JSONL documents, optionally gzipped
	FormatQueries = "queries"  // id<TAB>text TSV or BEIR JSONL queries
	FormatQrels   = "qrels"    // TREC qrels or BEIR qrels TSV
	FormatRun     = "run/trec" // TREC run: qid Q0 docid rank score tag
	FormatModel   = "model/hf" // a Hugging Face model directory (config.json, weights, tokenizer)
)

var formats = map[string]Format{}

func init() {
	for _, f := range []Format{
		{Name: FormatDocs, Version: "1", Doc: "id<TAB>text or BEIR JSONL documents"},
		{Name: FormatQueries, Version: "1", Doc: "id<TAB>text or BEIR JSONL queries"},
		{Name: FormatQrels, Version: "1", Doc: "TREC qrels or BEIR qrels TSV", Sniff: sniffQrels},
		{Name: FormatRun, Version: "1", Doc: "a TREC run: qid Q0 docid rank score tag", Sniff: sniffRun},
		{Name: FormatModel, Version: "1", Doc: "a Hugging Face model directory", Sniff: sniffModel},
	} {
		RegisterFormat(f)
	}
}

// RegisterFormat adds a format (and the component of the same name).
// Re-registering an identical name and version is allowed.
func RegisterFormat(f Format) {
	regMu.Lock()
	defer regMu.Unlock()
	if prev, ok := formats[f.Name]; ok && prev.Version != f.Version {
		panic(fmt.Sprintf("stage: format %s registered with versions %q and %q", f.Name, prev.Version, f.Version))
	}
	registerComponent(Component{Name: f.Name, Version: f.Version, Doc: f.Doc})
	formats[f.Name] = f
}

// LookupFormat finds a registered format.
func LookupFormat(name string) (Format, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	f, ok := formats[name]
	return f, ok
}

// SniffFormats returns the formats whose Sniff recognises path, sorted
// (none when the content says nothing certain).
func SniffFormats(path string) []string {
	regMu.RLock()
	var sniffers []Format
	for _, f := range formats {
		if f.Sniff != nil {
			sniffers = append(sniffers, f)
		}
	}
	regMu.RUnlock()
	var out []string
	for _, f := range sniffers {
		if f.Sniff(path) {
			out = append(out, f.Name)
		}
	}
	sort.Strings(out)
	return out
}

// DescribeFormat is a format's name with its description, for messages.
func DescribeFormat(name string) string {
	if f, ok := LookupFormat(name); ok && f.Doc != "" {
		return fmt.Sprintf("%s (%s)", name, f.Doc)
	}
	return name
}

// headLines returns up to n non-empty lines from the start of a regular
// file (gunzipped when it ends in .gz), reading at most 64 KiB.
func headLines(path string, n int) []string {
	info, err := os.Stat(path)
	if err != nil || !info.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil
		}
		defer gz.Close()
		r = gz
	}
	sc := bufio.NewScanner(io.LimitReader(r, 64<<10))
	var lines []string
	for sc.Scan() && len(lines) < n {
		if line := strings.TrimRight(sc.Text(), "\r"); strings.TrimSpace(line) != "" {
			lines = append(lines, line)
		}
	}
	return lines
}

// columns splits a line of a TREC file into whitespace-separated fields;
// a line with tabs must have the same columns split at tabs, so that
// "id<TAB>text with words" is never taken for a TREC line.
func columns(line string, want int) ([]string, bool) {
	f := strings.Fields(line)
	if len(f) != want {
		return nil, false
	}
	if strings.Contains(line, "\t") && len(strings.Split(strings.Trim(line, " \t"), "\t")) != want {
		return nil, false
	}
	return f, true
}

func isInt(s string) bool   { _, err := strconv.Atoi(s); return err == nil }
func isFloat(s string) bool { _, err := strconv.ParseFloat(s, 64); return err == nil }

// sniffRun recognises a TREC run by its first lines: six columns, Q0, an
// integer rank and a numeric score.
func sniffRun(path string) bool {
	lines := headLines(path, 3)
	for _, l := range lines {
		f, ok := columns(l, 6)
		if !ok || !strings.EqualFold(f[1], "Q0") || !isInt(f[3]) || !isFloat(f[4]) {
			return false
		}
	}
	return len(lines) > 0
}

// sniffQrels recognises TREC qrels (qid iter docid rel, with an integer or
// Q0 iteration and an integer grade) and BEIR's qrels TSV header.
func sniffQrels(path string) bool {
	lines := headLines(path, 3)
	if len(lines) > 0 && strings.Fields(lines[0])[0] == "query-id" && strings.Contains(lines[0], "corpus-id") {
		return true
	}
	for _, l := range lines {
		f, ok := columns(l, 4)
		if !ok || !(isInt(f[1]) || strings.EqualFold(f[1], "Q0")) || !isInt(f[3]) {
			return false
		}
	}
	return len(lines) > 0
}

// sniffModel recognises a model directory by its config.json.
func sniffModel(path string) bool {
	info, err := os.Stat(filepath.Join(path, "config.json"))
	return err == nil && info.Mode().IsRegular()
}
