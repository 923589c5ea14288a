//go:build torch

package main

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"

	oracle "github.com/irflow/irflow/internal/modeloracle"
)

// TestScoreCommand scores two documents with all-MiniLM-L6-v2 and checks
// the output format, the input order and the values against
// sentence-transformers.
func TestScoreCommand(t *testing.T) {
	dir := oracle.MiniLMDir(t)
	query := "what is a cat"
	docs := []string{"The stock market fell today.", "A cat is a small domesticated carnivorous mammal."}
	var stdout, stderr bytes.Buffer
	err := scoreCommand([]string{"--model", dir, "--query", query, "--doc", docs[0], "--doc", docs[1], "--threads", "2"}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var ref struct{ Scores []float64 }
	oracle.RunWithInput(t, &ref, map[string]any{"query": query, "docs": docs}, "st_encode.py", dir)
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("output %q", stdout.String())
	}
	for i, line := range lines {
		score, text, ok := strings.Cut(line, "\t")
		v, err := strconv.ParseFloat(score, 64)
		if !ok || err != nil || text != docs[i] {
			t.Fatalf("line %d = %q", i, line)
		}
		if d := v - ref.Scores[i]; d > 2e-6 || d < -2e-6 { // printed with 6 decimals
			t.Errorf("doc %d: %g, sentence-transformers %g", i, v, ref.Scores[i])
		}
	}
	if err := scoreCommand([]string{"--model", dir}, &stdout, &stderr); err == nil {
		t.Error("missing --query accepted")
	} else if ee := new(exitError); !errors.As(err, &ee) || ee.code != exitUsage {
		t.Errorf("missing --query: %v, want exit code %d", err, exitUsage)
	}
	err = scoreCommand([]string{"--model", t.TempDir(), "--query", "q", "--doc", "d"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("directory without a model: %v", err)
	}
}
