package datasets_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/datasets"
	"github.com/irflow/irflow/ir/trec"
)

// The datasets the assignment asks the catalog to carry.
var required = []string{"beir/scifact/test", "vaswani", "cranfield", "msmarco-passage/trec-dl-2019/judged", "msmarco-passage/trec-dl-2020/judged"}

// TestCatalogMatchesSharedData checks every catalogued file's size and
// sha256 against the shared collections' SHA256SUMS and the files on disk.
func TestCatalogMatchesSharedData(t *testing.T) {
	root := testenv.SharedData(t)
	sums := map[string]string{}
	f, err := os.Open(filepath.Join(root, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, path, _ := strings.Cut(sc.Text(), "  ")
		sums[strings.TrimPrefix(path, "./")] = sum
	}
	f.Close()
	for _, name := range required {
		if _, ok := datasets.Lookup(name); !ok {
			t.Errorf("catalog lacks %s", name)
		}
	}
	for _, name := range datasets.Names() {
		d, _ := datasets.Lookup(name)
		if d.Docs == "" || d.Corpus == "" || d.Queries == "" || d.Qrels == "" || d.Source == "" {
			t.Errorf("%s: incomplete entry %+v", name, d)
		}
		for _, file := range d.Files() {
			if file.Path == "" {
				t.Errorf("%s: a layout path has no catalog file", name)
				continue
			}
			if sums[file.Path] != file.SHA256 {
				t.Errorf("%s: sha256 %s, SHA256SUMS says %s", file.Path, file.SHA256, sums[file.Path])
			}
			st, err := os.Stat(filepath.Join(root, filepath.FromSlash(file.Path)))
			if err != nil || st.Size() != file.Size {
				t.Errorf("%s: catalog size %d, file: %v %v", file.Path, file.Size, st, err)
			}
			if file.URL != "" && !strings.HasPrefix(file.URL, "https://raw.githubusercontent.com/") {
				t.Errorf("%s: URL %s is not a pinned raw copy", file.Path, file.URL)
			}
		}
	}
}

// server serves the shared collections over loopback HTTP with range
// support, and lets a test tamper with one path's transfer.
type server struct {
	*httptest.Server
	root string

	mu       sync.Mutex
	requests []string // "path range"
	tamper   map[string]func(w http.ResponseWriter, r *http.Request, data []byte) bool
}

func newServer(t *testing.T) *server {
	s := &server{root: testenv.SharedData(t), tamper: map[string]func(http.ResponseWriter, *http.Request, []byte) bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, "/data/")
		s.mu.Lock()
		s.requests = append(s.requests, path+" "+r.Header.Get("Range"))
		tamper := s.tamper[path]
		s.mu.Unlock()
		data, err := os.ReadFile(filepath.Join(s.root, filepath.FromSlash(path)))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if tamper != nil && tamper(w, r, data) {
			return
		}
		http.ServeContent(w, r, path, time.Time{}, bytes.NewReader(data))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) log() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.requests...)
}

func store(t *testing.T, mirror string) *datasets.Store {
	return &datasets.Store{Dir: t.TempDir(), Mirror: mirror, Logf: t.Logf}
}

func sha(t *testing.T, path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestResolveFromHTTPMirror(t *testing.T) {
	srv := newServer(t)
	st := store(t, srv.URL+"/data")
	ctx := context.Background()
	p, err := st.Resolve(ctx, "cranfield")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{p.Docs, p.Corpus, p.Queries, p.Qrels} {
		if !strings.HasPrefix(path, st.Dir) {
			t.Errorf("%s is outside the store", path)
		}
	}
	if want := sha(t, testenv.Collection(t, "cranfield", "qrels.txt")); sha(t, p.Qrels) != want {
		t.Error("qrels differ from the served file")
	}
	qs, err := collection.ReadQueriesFile(p.Queries)
	if err != nil || len(qs) != 225 {
		t.Errorf("queries: %d, %v", len(qs), err)
	}
	n := len(srv.log())
	if n != 4 {
		t.Errorf("%d requests, want 4: %v", n, srv.log())
	}
	// A second resolve uses the verified files and asks nothing.
	if _, err := st.Resolve(ctx, "cranfield"); err != nil || len(srv.log()) != n {
		t.Errorf("second resolve: %v, requests %v", err, srv.log())
	}
	if matches, _ := filepath.Glob(filepath.Join(st.Dir, "cranfield", "*.part")); len(matches) != 0 {
		t.Errorf("left partial files: %v", matches)
	}
}

// TestInterruptedTransferResumes cuts the connection half-way through a
// file; the store must resume with a range request, not start over.
func TestInterruptedTransferResumes(t *testing.T) {
	srv := newServer(t)
	const path = "vaswani/docs.tsv"
	cut := 0
	srv.tamper[path] = func(w http.ResponseWriter, r *http.Request, data []byte) bool {
		if r.Header.Get("Range") != "" {
			return false // serve resumed requests normally
		}
		cut = len(data) / 2
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.WriteHeader(http.StatusOK)
		w.Write(data[:cut])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // drop the connection mid-body
	}
	st := store(t, srv.URL+"/data")
	d, _ := datasets.Lookup("vaswani")
	var file datasets.File
	for _, f := range d.Files() {
		if f.Path == path {
			file = f
		}
	}
	got, err := st.Fetch(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	if sha(t, got) != file.SHA256 {
		t.Fatal("resumed file has the wrong content")
	}
	reqs := srv.log()
	want := []string{path + " ", path + " bytes=" + strconv.Itoa(cut) + "-"}
	if strings.Join(reqs, "|") != strings.Join(want, "|") {
		t.Errorf("requests %q, want %q", reqs, want)
	}
}

// TestPartFromEarlierProcessResumes starts from a .part file left by an
// interrupted earlier run.
func TestPartFromEarlierProcessResumes(t *testing.T) {
	srv := newServer(t)
	st := store(t, srv.URL+"/data")
	src := testenv.Collection(t, "adi", "corpus.jsonl")
	data, _ := os.ReadFile(src)
	part := filepath.Join(st.Dir, "adi", "corpus.jsonl.part")
	os.MkdirAll(filepath.Dir(part), 0o755)
	os.WriteFile(part, data[:1000], 0o644)
	p, err := st.Resolve(context.Background(), "adi")
	if err != nil {
		t.Fatal(err)
	}
	if sha(t, p.Corpus) != sha(t, src) {
		t.Error("corpus differs after resuming")
	}
	found := false
	for _, r := range srv.log() {
		found = found || r == "adi/corpus.jsonl bytes=1000-"
	}
	if !found {
		t.Errorf("no range request for the part: %v", srv.log())
	}
}

// TestServerIgnoringRangesRestarts: a server that answers a range request
// with the whole file must not leave a doubled file behind.
func TestServerIgnoringRangesRestarts(t *testing.T) {
	srv := newServer(t)
	srv.tamper["adi/qrels.txt"] = func(w http.ResponseWriter, r *http.Request, data []byte) bool {
		w.WriteHeader(http.StatusOK)
		w.Write(data)
		return true
	}
	st := store(t, srv.URL+"/data")
	part := filepath.Join(st.Dir, "adi", "qrels.txt.part")
	os.MkdirAll(filepath.Dir(part), 0o755)
	os.WriteFile(part, []byte("1 0 1"), 0o644)
	p, err := st.Resolve(context.Background(), "adi")
	if err != nil {
		t.Fatal(err)
	}
	if sha(t, p.Qrels) != sha(t, testenv.Collection(t, "adi", "qrels.txt")) {
		t.Error("qrels wrong after a restarted transfer")
	}
}

// TestCorruptedFileFailsChecksum serves one flipped byte: the store must
// fail clearly, delete the partial file and not install anything.
func TestCorruptedFileFailsChecksum(t *testing.T) {
	srv := newServer(t)
	srv.tamper["adi/docs.tsv"] = func(w http.ResponseWriter, r *http.Request, data []byte) bool {
		bad := bytes.Clone(data)
		bad[len(bad)/3] ^= 0x20
		http.ServeContent(w, r, "docs.tsv", time.Time{}, bytes.NewReader(bad))
		return true
	}
	st := store(t, srv.URL+"/data")
	_, err := st.Resolve(context.Background(), "adi")
	if err == nil || !strings.Contains(err.Error(), "adi/docs.tsv") || !strings.Contains(err.Error(), "sha256 mismatch") ||
		!strings.Contains(err.Error(), "partial download was deleted") {
		t.Fatalf("err = %v", err)
	}
	for _, p := range []string{"adi/docs.tsv", "adi/docs.tsv.part"} {
		if _, err := os.Stat(filepath.Join(st.Dir, p)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s exists after a checksum failure", p)
		}
	}
}

func TestLocalDirectoryMirrorAndJudgedQueries(t *testing.T) {
	for _, mirror := range []string{testenv.SharedData(t), "file://" + testenv.SharedData(t)} {
		st := store(t, mirror)
		p, err := st.Resolve(context.Background(), "msmarco-passage/trec-dl-2020/judged")
		if err != nil {
			t.Fatal(err)
		}
		qs, err := collection.ReadQueriesFile(p.Queries)
		if err != nil {
			t.Fatal(err)
		}
		qrels, err := trec.ReadQrelsFile(p.Qrels)
		if err != nil {
			t.Fatal(err)
		}
		// DL20 has 200 topics of which 54 are judged (collection README).
		if len(qs) != 54 {
			t.Errorf("%d judged queries, want 54", len(qs))
		}
		// The derived file is pinned in the catalog like a fetched one
		// (the pin is awk's filter of the same files, see catalog.go).
		d, _ := datasets.Lookup("msmarco-passage/trec-dl-2020/judged")
		if r := d.Roles()[2]; !r.Derived || sha(t, p.Queries) != r.File.SHA256 || st.Verify(r.File) != nil {
			t.Errorf("derived queries %s: sha256 %s, catalog %+v", p.Queries, sha(t, p.Queries), r)
		}
		for _, q := range qs {
			if _, ok := qrels[q.ID]; !ok {
				t.Errorf("query %s has no judgments", q.ID)
			}
		}
		if len(p.Runs) != 4 || p.Runs["bm25"] == "" {
			t.Errorf("runs: %v", p.Runs)
		}
	}
	// DL19's query file is all judged already: used as is.
	st := store(t, testenv.SharedData(t))
	p, err := st.Resolve(context.Background(), "msmarco-passage/trec-dl-2019/judged")
	if err != nil || filepath.Base(p.Queries) != "queries.dl19.tsv" {
		t.Errorf("dl19 queries %s, %v", p.Queries, err)
	}
}

func TestErrors(t *testing.T) {
	st := store(t, "")
	if _, err := st.Resolve(context.Background(), "nope"); err == nil || !strings.Contains(err.Error(), `unknown dataset "nope"`) {
		t.Errorf("unknown: %v", err)
	}
	// Cranfield's layout files are derived: without a mirror they cannot
	// come from anywhere, and the error says what to do (no network used).
	if _, err := st.Resolve(context.Background(), "cranfield"); err == nil || !strings.Contains(err.Error(), datasets.EnvMirror) {
		t.Errorf("derived without mirror: %v", err)
	}
	srv := newServer(t)
	st = store(t, srv.URL+"/missing")
	_, err := st.Resolve(context.Background(), "adi")
	if err == nil || !strings.Contains(err.Error(), "404") || len(srv.log()) != 1 {
		t.Errorf("404: %v after %d requests (a 404 is not retried)", err, len(srv.log()))
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv(datasets.EnvDir, "")
	t.Setenv("XDG_CACHE_HOME", "/xdg")
	t.Setenv(datasets.EnvMirror, "http://mirror.invalid/x")
	st, err := datasets.FromEnv()
	if err != nil || st.Dir != "/xdg/irflow/datasets" || st.Mirror != "http://mirror.invalid/x" {
		t.Errorf("XDG: %+v %v", st, err)
	}
	t.Setenv(datasets.EnvDir, "/data/sets")
	if st, _ := datasets.FromEnv(); st.Dir != "/data/sets" {
		t.Errorf("%s: %s", datasets.EnvDir, st.Dir)
	}
	t.Setenv(datasets.EnvDir, "")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if st, _ := datasets.FromEnv(); st.Dir != "/home/u/.cache/irflow/datasets" {
		t.Errorf("HOME: %s", st.Dir)
	}
}

// TestLayoutPathsStayInTheStore: a layout path that would leave the store
// (or the mirror) is refused before anything is read or written.
func TestLayoutPathsStayInTheStore(t *testing.T) {
	parent := t.TempDir()
	st := &datasets.Store{Dir: filepath.Join(parent, "store"), Mirror: testenv.SharedData(t)}
	for _, p := range []string{"../escape.txt", "/tmp/escape.txt", "adi/../../escape.txt", `adi\..\escape.txt`, "adi//qrels.txt", "./adi/qrels.txt"} {
		_, err := st.Fetch(context.Background(), datasets.File{Path: p, Size: 1, SHA256: strings.Repeat("a", 64)})
		if err == nil || !strings.Contains(err.Error(), "invalid layout path") {
			t.Errorf("%q: err = %v", p, err)
		}
	}
	if entries, _ := os.ReadDir(parent); len(entries) != 0 {
		t.Errorf("created %v", entries)
	}
}

// TestPartialDownloadLinkIsRefused: the store never writes through a
// symbolic link planted where its partial download goes.
func TestPartialDownloadLinkIsRefused(t *testing.T) {
	st := store(t, testenv.SharedData(t))
	d, _ := datasets.Lookup("adi")
	var qrels datasets.File
	for _, f := range d.Files() {
		if f.Path == d.Qrels {
			qrels = f
		}
	}
	target := filepath.Join(t.TempDir(), "target")
	os.WriteFile(target, []byte("keep"), 0o644)
	part := filepath.Join(st.Dir, filepath.FromSlash(qrels.Path)) + ".part"
	os.MkdirAll(filepath.Dir(part), 0o755)
	if err := os.Symlink(target, part); err != nil {
		t.Fatal(err)
	}
	_, err := st.Fetch(context.Background(), qrels)
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("err = %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("written through the link: %q", b)
	}
}
