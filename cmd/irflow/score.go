package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"

	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/inference"
)

func init() {
	register("score", "score documents for a query with a transformer ranking model", func(args []string) error {
		return scoreCommand(args, os.Stdout, os.Stderr)
	})
}

// stringsFlag collects a repeatable string flag.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, "\n") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// scoreCommand prints one "score<TAB>document" line per document, in the
// order given (or a JSON array with --json).
func scoreCommand(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("score", "--model DIR|hf:ORG/NAME[@REV] --query Q (--doc D ... | --docs FILE)")
	fs.SetOutput(stderr)
	model := fs.String("model", "", `model directory or "hf:org/name[@revision]" (Hugging Face cache; HF_ENDPOINT, HF_HUB_OFFLINE honoured)`)
	head := fs.String("head", "", `head preset overriding the model's own: dpr, col, splade, sentence-transformers, mono`)
	query := fs.String("query", "", "the query")
	var docs stringsFlag
	fs.Var(&docs, "doc", "a document (repeatable)")
	docsFile := fs.String("docs", "", `file with one document per line ("-" = standard input)`)
	threads := fs.Int("threads", 0, "CPU threads (0 = libtorch's default)")
	asJSON := fs.Bool("json", false, `print [{"doc": i, "score": s}, …] instead of lines`)
	if err := fs.Parse(args); err != nil {
		return &exitError{code: exitUsage, err: err, reported: true}
	}
	if *model == "" || *query == "" || (len(docs) == 0 && *docsFile == "") || fs.NArg() > 0 {
		fs.Usage()
		return &exitError{code: exitUsage, err: errors.New("score needs --model, --query and --doc or --docs"), reported: true}
	}
	if *docsFile != "" {
		lines, err := readLines(*docsFile)
		if err != nil {
			return err
		}
		docs = append(docs, lines...)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	dir, err := hf.DefaultHub().ResolveModel(ctx, *model)
	if err != nil {
		return err
	}
	m, err := inference.Load(ctx, dir, inference.Options{Head: *head, Threads: *threads})
	if err != nil {
		return err
	}
	defer m.Close()
	scores, err := m.Score(ctx, *query, docs)
	if err != nil {
		return err
	}
	if *asJSON {
		type row struct {
			Doc   int     `json:"doc"`
			Score float32 `json:"score"`
		}
		rows := make([]row, len(scores))
		for i, s := range scores {
			rows[i] = row{i, s}
		}
		return json.NewEncoder(stdout).Encode(rows)
	}
	w := bufio.NewWriter(stdout)
	for i, s := range scores {
		fmt.Fprintf(w, "%.6f\t%s\n", s, oneLine(docs[i]))
	}
	return w.Flush()
}

func readLines(path string) ([]string, error) {
	var r io.Reader = os.Stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	var out []string
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			out = append(out, t)
		}
	}
	return out, sc.Err()
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 80 {
		s = string(r[:77]) + "..."
	}
	return s
}
