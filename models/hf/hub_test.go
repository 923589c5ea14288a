package hf

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

const (
	commitA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	commitB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

// fakeHub serves files with Hugging Face's URL layout
// /<org>/<name>/resolve/<rev>/<path>, answering X-Repo-Commit like the hub.
type fakeHub struct {
	files    map[string]string // "<repo>@<commit>/<path>" → content
	branches map[string]string // "<repo>@<branch>" → commit
	gets     atomic.Int64
	token    string
}

func (f *fakeHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.gets.Add(1)
	if f.token != "" && r.Header.Get("Authorization") != "Bearer "+f.token {
		http.Error(w, "unauthorized", http.StatusUnauthorized)
		return
	}
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 5)
	if len(parts) < 5 || parts[2] != "resolve" {
		http.NotFound(w, r)
		return
	}
	repo, rev, file := parts[0]+"/"+parts[1], parts[3], parts[4]
	commit := rev
	if c, ok := f.branches[repo+"@"+rev]; ok {
		commit = c
	}
	body, ok := f.files[repo+"@"+commit+"/"+file]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("X-Repo-Commit", commit)
	w.Write([]byte(body))
}

func newFakeHub(t *testing.T) (*fakeHub, *Hub) {
	t.Helper()
	f := &fakeHub{
		files: map[string]string{
			"org/tiny@" + commitA + "/config.json":           `{"model_type":"bert","vocab_size":10,"hidden_size":4,"num_attention_heads":2}`,
			"org/tiny@" + commitA + "/model.safetensors":     "weights-A",
			"org/tiny@" + commitA + "/vocab.txt":             "[PAD]\n",
			"org/tiny@" + commitA + "/1_Pooling/config.json": `{"pooling_mode_mean_tokens":true}`,
			"org/tiny@" + commitB + "/config.json":           `{"model_type":"bert","vocab_size":10,"hidden_size":4,"num_attention_heads":2}`,
			"org/tiny@" + commitB + "/model.safetensors":     "weights-B",
			"org/old@" + commitA + "/config.json":            `{"model_type":"bert","vocab_size":10,"hidden_size":4,"num_attention_heads":2}`,
			"org/old@" + commitA + "/pytorch_model.bin":      "bin-weights",
		},
		branches: map[string]string{"org/tiny@main": commitA, "org/old@main": commitA},
	}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, &Hub{Endpoint: srv.URL, CacheDir: t.TempDir(), Client: srv.Client()}
}

func TestHubDownloadCachesInHuggingFaceLayout(t *testing.T) {
	f, h := newFakeHub(t)
	ctx := context.Background()
	p, err := h.Download(ctx, "org/tiny", "", "model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(h.CacheDir, "models--org--tiny", "snapshots", commitA, "model.safetensors")
	if p != want {
		t.Errorf("path = %s, want %s", p, want)
	}
	if b, _ := os.ReadFile(p); string(b) != "weights-A" {
		t.Errorf("content = %q", b)
	}
	ref, _ := os.ReadFile(filepath.Join(h.CacheDir, "models--org--tiny", "refs", "main"))
	if string(ref) != commitA {
		t.Errorf("refs/main = %q, want %s", ref, commitA)
	}
	// Nested paths keep their folders.
	p, err = h.Download(ctx, "org/tiny", "main", "1_Pooling/config.json")
	if err != nil || !strings.HasSuffix(p, filepath.Join(commitA, "1_Pooling", "config.json")) {
		t.Fatalf("nested file: %s, %v", p, err)
	}

	// A pinned commit in the cache is served without the network.
	before := f.gets.Load()
	if _, err := h.Download(ctx, "org/tiny", commitA, "model.safetensors"); err != nil {
		t.Fatal(err)
	}
	if f.gets.Load() != before {
		t.Errorf("pinned cached file was fetched again")
	}

	// A moved branch is followed when online.
	f.branches["org/tiny@main"] = commitB
	p, err = h.Download(ctx, "org/tiny", "main", "model.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "weights-B" {
		t.Errorf("after branch moved: content %q, want weights-B", b)
	}
}

func TestHubOffline(t *testing.T) {
	f, h := newFakeHub(t)
	ctx := context.Background()
	if _, err := h.Download(ctx, "org/tiny", "main", "config.json"); err != nil {
		t.Fatal(err)
	}
	h.Offline = true
	before := f.gets.Load()
	p, err := h.Download(ctx, "org/tiny", "main", "config.json")
	if err != nil {
		t.Fatalf("offline cached: %v", err)
	}
	if !strings.Contains(p, commitA) {
		t.Errorf("offline path %s not in the commit snapshot", p)
	}
	_, err = h.Download(ctx, "org/tiny", "main", "model.safetensors")
	if err == nil || !strings.Contains(err.Error(), "HF_HUB_OFFLINE") {
		t.Errorf("offline miss: err = %v, want a message naming HF_HUB_OFFLINE", err)
	}
	if f.gets.Load() != before {
		t.Errorf("offline mode made %d requests", f.gets.Load()-before)
	}
}

func TestHubErrors(t *testing.T) {
	f, h := newFakeHub(t)
	ctx := context.Background()
	_, err := h.Download(ctx, "org/tiny", "main", "nope.json")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing file: err = %v, want ErrNotFound", err)
	}
	_, err = h.Download(ctx, "org/absent", "main", "config.json")
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing repo: err = %v, want ErrNotFound", err)
	}
	for _, bad := range []string{"../etc", "a/b/c", ""} {
		if _, err := h.Download(ctx, bad, "main", "config.json"); err == nil {
			t.Errorf("repo %q accepted", bad)
		}
	}
	if _, err := h.Download(ctx, "org/tiny", "main", "../../x"); err == nil {
		t.Errorf("path traversal accepted")
	}
	f.token = "secret"
	_, err = h.Download(ctx, "org/tiny", commitB, "config.json")
	if err == nil || !strings.Contains(err.Error(), "HF_TOKEN") {
		t.Errorf("unauthorized: err = %v", err)
	}
	h.Token = "secret"
	if _, err := h.Download(ctx, "org/tiny", commitB, "config.json"); err != nil {
		t.Errorf("with token: %v", err)
	}
}

func TestResolveModel(t *testing.T) {
	_, h := newFakeHub(t)
	ctx := context.Background()
	dir, err := h.ResolveModel(ctx, "hf:org/tiny")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.json", "model.safetensors", "vocab.txt", "1_Pooling/config.json"} {
		if !exists(filepath.Join(dir, f)) {
			t.Errorf("snapshot lacks %s", f)
		}
	}
	// Falls back to pytorch_model.bin when there is no safetensors file.
	dir, err = h.ResolveModel(ctx, "hf:org/old@main")
	if err != nil {
		t.Fatal(err)
	}
	if !exists(filepath.Join(dir, PytorchBinFile)) {
		t.Errorf("no %s in %s", PytorchBinFile, dir)
	}
	// A local directory resolves to itself; a path without config.json does not.
	if got, err := h.ResolveModel(ctx, dir); err != nil || got != dir {
		t.Errorf("local dir: %s, %v", got, err)
	}
	if _, err := h.ResolveModel(ctx, t.TempDir()); err == nil || !strings.Contains(err.Error(), "config.json") {
		t.Errorf("empty dir: err = %v", err)
	}
	// Offline resolution of what is cached works, of what is not fails.
	h.Offline = true
	if _, err := h.ResolveModel(ctx, "hf:org/tiny"); err != nil {
		t.Errorf("offline cached model: %v", err)
	}
	if _, err := h.ResolveModel(ctx, "hf:org/other"); err == nil {
		t.Errorf("offline uncached model resolved")
	}
}

func TestDefaultHubReadsEnvironment(t *testing.T) {
	t.Setenv("HF_ENDPOINT", "http://127.0.0.1:9/")
	t.Setenv("HF_HUB_CACHE", "/x/cache")
	t.Setenv("HF_HUB_OFFLINE", "1")
	t.Setenv("HF_TOKEN", "tok")
	h := DefaultHub()
	if h.Endpoint != "http://127.0.0.1:9" || h.CacheDir != "/x/cache" || !h.Offline || h.Token != "tok" {
		t.Errorf("DefaultHub = %+v", h)
	}
	t.Setenv("HF_HUB_CACHE", "")
	t.Setenv("HF_HOME", "/y")
	if got := DefaultHub().CacheDir; got != "/y/hub" {
		t.Errorf("HF_HOME cache = %s", got)
	}
}
