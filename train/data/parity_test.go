package data_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/train/data"
)

// oracleFile is what scripts/oracle/train/data.py wrote from the files in
// testdata/ (see testdata/README.md).
const oracleFile = "testdata/lightning_ir.json"

type oracleSample struct {
	QueryID string     `json:"query_id"`
	Query   string     `json:"query"`
	DocIDs  []string   `json:"doc_ids"`
	Docs    []string   `json:"docs"`
	Targets []*float64 `json:"targets"` // null: NaN
}

type oracleCase struct {
	Name      string         `json:"name"`
	WithQrels bool           `json:"with_qrels"`
	File      string         `json:"file"`
	Params    map[string]any `json:"params"`
	Samples   []oracleSample `json:"samples"`
	Error     string         `json:"error"`
}

type oracleOutput struct {
	Run    []oracleCase `json:"run"`
	Tuples []oracleCase `json:"tuples"`
}

func readOracle(t *testing.T) oracleOutput {
	t.Helper()
	b, err := os.ReadFile(oracleFile)
	if err != nil {
		t.Fatal(err)
	}
	var out oracleOutput
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Run) == 0 || len(out.Tuples) == 0 {
		t.Fatalf("%s has no cases", oracleFile)
	}
	return out
}

func intParam(p map[string]any, key string) int {
	if v, ok := p[key].(float64); ok {
		return int(v)
	}
	return 0
}

func strParam(p map[string]any, key string) string {
	s, _ := p[key].(string)
	return s
}

func runConfig(c oracleCase) data.RunConfig {
	cfg := data.RunConfig{
		Run:              "testdata/run.run",
		Queries:          "testdata/queries.tsv",
		Docs:             "testdata/docs.tsv",
		Depth:            intParam(c.Params, "depth"),
		SampleSize:       intParam(c.Params, "sample_size"),
		SamplingStrategy: data.Strategy(strParam(c.Params, "sampling_strategy")),
		Targets:          data.RunTargets(strParam(c.Params, "targets")),
	}
	cfg.NormalizeTargets, _ = c.Params["normalize_targets"].(bool)
	if c.WithQrels {
		cfg.Qrels = "testdata/qrels.qrels"
	}
	return cfg
}

// nanQuery is the first query whose oracle targets hold a NaN.
func nanQuery(c oracleCase) string {
	for _, s := range c.Samples {
		for _, v := range s.Targets {
			if v == nil {
				return s.QueryID
			}
		}
	}
	return ""
}

// compareSamples checks every sample against Lightning IR's, targets as
// the float32 that Lightning IR's tensor (float64 or float32) rounds to.
func compareSamples(t *testing.T, ds data.Dataset, want []oracleSample) {
	t.Helper()
	if ds.Len() != len(want) {
		t.Fatalf("%d samples, Lightning IR has %d", ds.Len(), len(want))
	}
	for i, w := range want {
		got, err := ds.Sample(i, 1, 0)
		if err != nil {
			t.Fatalf("sample %d: %v", i, err)
		}
		if got.QueryID != w.QueryID || got.Query != w.Query || !reflect.DeepEqual(got.DocIDs, w.DocIDs) || !reflect.DeepEqual(got.Docs, w.Docs) {
			t.Errorf("sample %d: got query %q %q docs %q %q\nLightning IR: query %q %q docs %q %q",
				i, got.QueryID, got.Query, got.DocIDs, got.Docs, w.QueryID, w.Query, w.DocIDs, w.Docs)
			continue
		}
		if w.Targets == nil {
			if got.Targets != nil {
				t.Errorf("sample %d (query %s): targets %v, Lightning IR has none", i, w.QueryID, got.Targets)
			}
			continue
		}
		wt := make([]float32, len(w.Targets))
		for j, v := range w.Targets {
			wt[j] = float32(*v)
		}
		if !reflect.DeepEqual(got.Targets, wt) {
			t.Errorf("sample %d (query %s): targets %v, Lightning IR %v", i, w.QueryID, got.Targets, wt)
		}
	}
}

// TestRunDatasetMatchesLightningIR loads the fixture run with each setting
// the oracle used and compares every sample exactly: which queries survive
// (duplicates, unjudged and short queries dropped, ranks beyond depth cut),
// their order, each list's documents and order (rank ties in file order),
// and the targets (relevance over two qrel iterations, rank, score,
// normalised). Where Lightning IR fails, or yields NaN targets, LoadRun
// must refuse.
func TestRunDatasetMatchesLightningIR(t *testing.T) {
	for _, c := range readOracle(t).Run {
		t.Run(c.Name, func(t *testing.T) {
			ds, err := data.LoadRun(runConfig(c))
			if c.Error != "" {
				if err == nil {
					t.Fatalf("loaded; Lightning IR fails with %s", c.Error)
				}
				t.Logf("refused as Lightning IR: %v", err)
				return
			}
			want := c.Samples
			if q := nanQuery(c); q != "" {
				if err == nil || !strings.Contains(err.Error(), `query "`+q+`"`) {
					t.Fatalf("Lightning IR gives NaN targets for query %s; want an error naming it, got %v", q, err)
				}
				// The other queries must still match: load the run without q.
				cfg := runConfig(c)
				cfg.Run = withoutQuery(t, cfg.Run, q)
				ds, err = data.LoadRun(cfg)
				want = slices.DeleteFunc(slices.Clone(want), func(s oracleSample) bool { return s.QueryID == q })
			}
			if err != nil {
				t.Fatal(err)
			}
			compareSamples(t, ds, want)
		})
	}
}

// withoutQuery copies a run file without query q's lines.
func withoutQuery(t *testing.T, run, q string) string {
	t.Helper()
	b, err := os.ReadFile(run)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] != q {
			kept = append(kept, line)
		}
	}
	out := filepath.Join(t.TempDir(), "run.run")
	if err := os.WriteFile(out, []byte(strings.Join(kept, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTupleDatasetMatchesLightningIR compares the three tuple layouts
// (qid/pos/neg TSV, ColBERT's scored JSON, kd TSV) with order and score
// targets and num_docs.
func TestTupleDatasetMatchesLightningIR(t *testing.T) {
	for _, c := range readOracle(t).Tuples {
		t.Run(c.Name, func(t *testing.T) {
			cfg := data.TuplesConfig{
				Tuples:  filepath.Join("testdata", c.File),
				Queries: "testdata/queries.tsv",
				Docs:    "testdata/docs.tsv",
				Targets: data.TupleTargets(strParam(c.Params, "targets")),
				NumDocs: intParam(c.Params, "num_docs"),
			}
			if c.File == "kd.tsv" {
				cfg.Format = data.KDPairs
			}
			ds, err := data.LoadTuples(cfg)
			if c.Error != "" {
				if err == nil {
					t.Fatalf("loaded; Lightning IR fails with %s", c.Error)
				}
				t.Logf("refused as Lightning IR: %v", err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			compareSamples(t, ds, c.Samples)
		})
	}
}

// TestOracleFixtureIsCurrent reruns the oracle and checks that the
// committed fixture is what Lightning IR produces now (about 20 s: it
// imports torch; skipped with -short).
func TestOracleFixtureIsCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: not rerunning the Lightning IR oracle")
	}
	script, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "scripts", "oracle", "train", "data.py"))
	if err != nil {
		t.Fatal(err)
	}
	testdata, _ := filepath.Abs("testdata")
	got := testenv.RunTorchPython(t, string(script), testdata)
	want, err := os.ReadFile(oracleFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("oracle output differs from %s; regenerate it:\n  .cache/venv-torch/bin/python scripts/oracle/train/data.py train/data/testdata > train/data/%s", oracleFile, oracleFile)
	}
}
