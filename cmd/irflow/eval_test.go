package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
)

func TestEvalCommand(t *testing.T) {
	run := testenv.Collection(t, "msmarco-passage", "rerank", "runs", "bm25.dl19.top100.trec")
	qrels := testenv.Collection(t, "msmarco-passage", "qrels.dl19.txt")
	var out, errOut bytes.Buffer
	err := evalCommand([]string{"--run", run, "--qrels", qrels, "-m", "nDCG@10", "-m", "P(rel=2)@10, RR@10", "-digits", "6"}, &out, &errOut)
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	// 0.505831 is Pyserini's published BM25 DL19 nDCG@10.
	want := "nDCG@10\tall\t0.505831\n"
	if lines := strings.Split(out.String(), "\n"); len(lines) != 4 || lines[0]+"\n" != want ||
		!strings.HasPrefix(lines[1], "P(rel=2)@10\tall\t") || !strings.HasPrefix(lines[2], "RR@10\tall\t") {
		t.Errorf("output:\n%s", out.String())
	}

	out.Reset()
	if err := evalCommand([]string{"-run", run, "-qrels", qrels, "-q"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	// 43 queries × 3 default measures, then 3 means.
	if len(lines) != 43*3+3 {
		t.Fatalf("-q printed %d lines, want %d", len(lines), 43*3+3)
	}
	for _, l := range lines {
		if f := strings.Split(l, "\t"); len(f) != 3 || len(f[2]) != len("0.1234") {
			t.Errorf("bad line %q", l)
		}
	}
	if lines[0] != "nDCG@10\t1037798\t"+strings.Split(lines[0], "\t")[2] || !strings.HasPrefix(lines[len(lines)-1], "R@100\tall\t") {
		t.Errorf("first/last lines: %q / %q", lines[0], lines[len(lines)-1])
	}
}

func TestEvalCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.trec")
	os.WriteFile(bad, []byte("q1 Q0 d1 1 1.0 t\nq1 Q0 d2 2 oops t\n"), 0o644)
	qrels := testenv.Collection(t, "msmarco-passage", "qrels.dl19.txt")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--qrels", qrels}, exitUsage, "--run and --qrels are required"},
		{[]string{"--run", bad, "--qrels", qrels, "-m", "nDCG@x"}, exitUsage, `measure "nDCG@x": column 6`},
		{[]string{"--run", bad, "--qrels", qrels, "-m", "AP(rel=2,judged_only=1)"}, exitUsage, `unsupported parameter "judged_only"`},
		{[]string{"--run", bad, "--qrels", qrels, "extra"}, exitUsage, "unexpected arguments"},
		{[]string{"--run", bad, "--qrels", qrels, "--bogus"}, exitUsage, "flag provided but not defined"},
		{[]string{"--run", bad, "--qrels", qrels}, exitFailure, bad + `:2:12: score "oops" is not a number`},
	} {
		var out, errOut bytes.Buffer
		err := evalCommand(tc.args, &out, &errOut)
		code := exitFailure
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
		}
		msg := errOut.String()
		if err != nil {
			msg += err.Error()
		}
		if err == nil || code != tc.code || !strings.Contains(msg, tc.msg) {
			t.Errorf("%v: err=%v code=%d output=%q; want code %d and %q", tc.args, err, code, msg, tc.code, tc.msg)
		}
	}
}
