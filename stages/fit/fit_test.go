package fit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/pipeline/stage"
)

// params returns the kind's defaults with the given values on top.
func params(kv map[string]any) map[string]any {
	p := map[string]any{}
	for _, d := range Kind().Params {
		if d.Default != nil {
			p[d.Name] = stage.NormalizeDefault(d.Default)
		}
	}
	p["model"], p["docs"], p["train_queries"] = "/m", "/d", "/q"
	p["losses"] = map[string]string{"InfoNCE": "1"}
	for k, v := range kv {
		p[k] = v
	}
	return p
}

func TestCheckCombination(t *testing.T) {
	cases := []struct {
		name  string
		kv    map[string]any
		param string // "" = no error
		want  string
	}{
		{"run with qrels", map[string]any{"train_run": "/r", "train_qrels": "/qr"}, "", ""},
		{"tuples", map[string]any{"train_tuples": "/t"}, "", ""},
		{"no data", nil, "train_queries", "no training data"},
		{"both", map[string]any{"train_run": "/r", "train_tuples": "/t"}, "train_run", "both set"},
		{"tuples with run targets", map[string]any{"train_tuples": "/t", "targets": "relevance"}, "targets", "for runs"},
		{"tuples with qrels", map[string]any{"train_tuples": "/t", "train_qrels": "/qr"}, "train_qrels", "train_run only"},
		{"run with order targets", map[string]any{"train_run": "/r", "train_qrels": "/qr", "targets": "order"}, "targets", "for tuples"},
		{"rank targets without depth", map[string]any{"train_run": "/r", "targets": "rank"}, "targets", "needs depth"},
		{"relevance without qrels", map[string]any{"train_run": "/r"}, "train_run", "need train_qrels"},
		{"score targets without qrels", map[string]any{"train_run": "/r", "targets": "score"}, "", ""},
		{"drop without qrels", map[string]any{"train_run": "/r", "targets": "score", "drop_without_relevant": true}, "drop_without_relevant", "needs train_qrels"},
		{"single_relevant without qrels", map[string]any{"train_run": "/r", "targets": "score", "sampling_strategy": "single_relevant"}, "sampling_strategy", "needs train_qrels"},
		{"validation incomplete", map[string]any{"train_tuples": "/t", "validate_every": 10.0, "val_run": "/v"}, "validate_every", "val_queries, val_qrels"},
		{"patience without validation", map[string]any{"train_tuples": "/t", "patience": 2.0}, "patience", "needs validate_every"},
		{"required loss parameter missing", map[string]any{"train_tuples": "/t", "losses": map[string]string{"ScoreBasedInBatchCrossEntropy": "1"}}, "loss_options", "min_target_diff"},
		{"required loss parameter given", map[string]any{"train_tuples": "/t", "losses": map[string]string{"ScoreBasedInBatchCrossEntropy": "1"},
			"loss_options": map[string]string{"ScoreBasedInBatchCrossEntropy.min_target_diff": "1"}}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := checkCombination(params(c.kv))
			if c.param == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var pe *stage.ParamError
			if !errors.As(err, &pe) || pe.Param != c.param || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v (%#v), want a ParamError on %s containing %q", err, pe, c.param, c.want)
			}
		})
	}
}

func TestLossSpecs(t *testing.T) {
	specs, err := lossSpecs(map[string]string{"RankNet": "0.5", "FLOPSRegularization": "2"},
		map[string]string{"RankNet.temperature": "3", "FLOPSRegularization.doc_weight": "1e-3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 2 || specs[0].Name != "FLOPSRegularization" || specs[0].Weight != 2 || specs[0].Params["doc_weight"] != 1e-3 ||
		specs[1].Name != "RankNet" || specs[1].Weight != 0.5 || specs[1].Params["temperature"] != 3 {
		t.Fatalf("specs = %+v", specs)
	}
	for _, bad := range []struct {
		weights, options map[string]string
		want             string
	}{
		{map[string]string{"RankNet": "x"}, nil, "not a number"},
		{map[string]string{"RankNet": "1"}, map[string]string{"RankNet": "1"}, "<Loss>.<parameter>"},
		{map[string]string{"RankNet": "1"}, map[string]string{"InfoNCE.x": "1"}, "not among the losses"},
		{map[string]string{"RankNet": "1"}, map[string]string{"RankNet.temperature": "hot"}, "not a number"},
	} {
		if _, err := lossSpecs(bad.weights, bad.options); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("lossSpecs(%v, %v) = %v, want an error containing %q", bad.weights, bad.options, err, bad.want)
		}
	}
}

func TestSniffTuples(t *testing.T) {
	cases := map[string]bool{
		"1\t10\t20\n2\t11\t21\n":                true,  // qid pos neg
		"1\t10\t20\t30\n":                       true,  // wider; also qrels-shaped
		"[\"1\", [\"10\", 9.5], [\"20\", 3]]\n": true,  // scored JSON
		"1\t0\tdoc\t1\n":                        false, // qrels
		"1 Q0 d1 1 2.5 run\n":                   false, // run
		"1\tq one\n":                            false, // queries
		"1\tsome text\tmore\n":                  false, // text, not ids
		"":                                      false,
	}
	for content, want := range cases {
		p := filepath.Join(t.TempDir(), "f.tsv")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := sniffTuples(p); got != want {
			t.Errorf("sniffTuples(%q) = %v, want %v", content, got, want)
		}
	}
}

func TestScheduleOnLossWeight(t *testing.T) {
	p := params(map[string]any{"train_tuples": "/t", "losses": map[string]string{"InfoNCE": "2"},
		"schedules": map[string]string{"InfoNCE.weight": "linear_warmup(warmup=4)"}})
	if err := checkSchedules(p["schedules"]); err != nil {
		t.Fatal(err)
	}
	specs, err := lossSpecs(p["losses"].(map[string]string), nil)
	if err != nil {
		t.Fatal(err)
	}
	job := &stage.Job{Params: p}
	cfg, err := config(job, specs)
	if err != nil {
		t.Fatal(err)
	}
	// Lightning IR's generic scheduler at batch start: step s runs with
	// the factor of global_step + 1 = s, so step 2 of a 4-step warm-up
	// runs at half the weight.
	if len(cfg.Values) != 1 || cfg.Values[0].Param != "weight" {
		t.Fatalf("values = %+v", cfg.Values)
	}
	for step, want := range map[int]float64{1: 0.5, 2: 1, 4: 2, 9: 2} {
		if got := cfg.Values[0].Value(step); got != want {
			t.Errorf("weight at step %d = %v, want %v", step, got, want)
		}
	}
}

// TestSetEncoderListsCheckedAtPlan: with a set-encoder of depth 10, fit
// refuses at plan time the per-query lists that parameters make longer
// than 10, naming the parameter, and plans those within it.
func TestSetEncoderListsCheckedAtPlan(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "set-encoder")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := `{"model_type": "set-encoder", "depth": 10, "backbone_model_type": "bert", "hidden_size": 32, "vocab_size": 100, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 37}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, param string // param "" = plans
		kv          map[string]any
	}{
		{"tuples within depth", "", map[string]any{"train_tuples": "/t", "num_docs": 10.0}},
		{"tuples beyond depth", "num_docs", map[string]any{"train_tuples": "/t", "num_docs": 11.0}},
		{"all tuple documents", "", map[string]any{"train_tuples": "/t"}},
		{"run sample beyond depth", "sample_size", map[string]any{"train_run": "/r", "sample_size": 12.0}},
		{"validation beyond depth", "val_depth", map[string]any{"train_tuples": "/t", "validate_every": 5.0, "val_run": "/v", "val_queries": "/q", "val_qrels": "/j"}},
		{"validation within depth", "", map[string]any{"train_tuples": "/t", "validate_every": 5.0, "val_run": "/v", "val_queries": "/q", "val_qrels": "/j", "val_depth": 10.0}},
		{"no validation", "", map[string]any{"train_tuples": "/t"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			kv := map[string]any{"model": dir, "head": ""}
			for k, v := range c.kv {
				kv[k] = v
			}
			err := checkCombination(params(kv))
			if c.param == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var pe *stage.ParamError
			if !errors.As(err, &pe) || pe.Param != c.param || !strings.Contains(err.Error(), "depth = 10") {
				t.Fatalf("err = %v, want a ParamError on %s naming depth = 10", err, c.param)
			}
		})
	}
}

// TestZooModelsPlan: fit plans every head irflow loads from a Lightning IR
// config.json (COIL, UniCOIL, MVR, Set-Encoder, DPR), a plain backbone
// with a preset, and a path that is not a directory yet.
func TestZooModelsPlan(t *testing.T) {
	root := t.TempDir()
	bert := `"backbone_model_type": "bert", "hidden_size": 32, "vocab_size": 100, "num_hidden_layers": 1, "num_attention_heads": 4, "intermediate_size": 37`
	for name, head := range map[string]string{
		"coil":        `"model_type": "coil", "token_embedding_dim": 8, "cls_embedding_dim": 12`,
		"unicoil":     `"model_type": "unicoil", "projection": "linear"`,
		"mvr":         `"model_type": "mvr", "num_viewer_tokens": 4`,
		"set-encoder": `"model_type": "set-encoder", "depth": 10`,
		"dpr":         `"model_type": "lir-dpr", "pooling_strategy": "first"`,
		"plain":       `"model_type": "bert"`,
	} {
		if err := os.MkdirAll(filepath.Join(root, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, name, "config.json"), []byte("{"+head+", "+bert+"}"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ model, head string }{
		{"coil", ""}, {"unicoil", ""}, {"mvr", ""}, {"set-encoder", ""}, {"dpr", ""}, {"plain", "mono"}, {"not-there", ""},
	} {
		t.Run(c.model, func(t *testing.T) {
			err := checkCombination(params(map[string]any{"train_tuples": "/t", "model": filepath.Join(root, c.model), "head": c.head}))
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
		})
	}
}
