//go:build torch

// Command encodeq encodes a queries file with a model and head as irflow's
// search stage does and writes the vectors and scoring masks to a file
// (package search/plaid's SciFact measurements read it: one encoding, any
// number of searches of a cached index). The file is a gob of Set.
//
//	go run -trimpath -tags torch ./scripts/bench/plaidbench/encodeq -model hf:sentence-transformers/all-MiniLM-L6-v2 \
//	    -head col -opt projection= -opt normalization=l2 -opt doc_length=256 -queries ../shared/data/scifact/queries.tsv -out q.bin
package main

import (
	"context"
	"encoding/gob"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/inference"
)

type opts map[string]string

func (o opts) String() string { return fmt.Sprint(map[string]string(o)) }
func (o opts) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("-opt %q: want name=value", s)
	}
	o[k] = v
	return nil
}

func main() {
	model := flag.String("model", "", "model directory or hf:org/name")
	head := flag.String("head", "col", "head")
	queries := flag.String("queries", "", "queries file")
	out := flag.String("out", "", "output file")
	ho := opts{}
	flag.Var(ho, "opt", "head option name=value (repeatable)")
	flag.Parse()
	if err := run(*model, *head, *queries, *out, ho); err != nil {
		fmt.Fprintln(os.Stderr, "encodeq:", err)
		os.Exit(1)
	}
}

func run(model, head, queries, out string, ho map[string]string) error {
	ctx := context.Background()
	dir, err := hf.DefaultHub().ResolveModel(ctx, model)
	if err != nil {
		return err
	}
	m, err := inference.Load(ctx, dir, inference.Options{Head: head, HeadOverrides: ho})
	if err != nil {
		return err
	}
	defer m.Close()
	qs, err := collection.ReadQueriesFile(queries)
	if err != nil {
		return err
	}
	texts := make([]string, len(qs))
	ids := make([]string, len(qs))
	for i, q := range qs {
		texts[i], ids[i] = q.Text, q.ID
	}
	emb, err := m.EncodeQueries(ctx, texts)
	if err != nil {
		return err
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := gob.NewEncoder(f).Encode(Set{Dim: emb.Dim, IDs: ids, Vectors: emb.Vectors, Mask: emb.Mask}); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Set is the file's content (gob): per query its id, Vectors (n·Dim
// values) and scoring Mask (n).
type Set struct {
	Dim     int
	IDs     []string
	Vectors [][]float32
	Mask    [][]bool
}
