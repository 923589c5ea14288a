package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/pipeline/exec"
)

// smallFiles are the shared files the dataset tests copy into a mirror:
// ADI and the SciFact queries and qrels, never the large ones.
var smallFiles = []string{
	"adi/docs.tsv", "adi/corpus.jsonl", "adi/queries.tsv", "adi/qrels.txt",
	"scifact/queries.tsv", "scifact/qrels.txt", "scifact/queries.train.tsv", "scifact/qrels.train.txt",
}

var adiFiles = []string{"adi/corpus.jsonl", "adi/docs.tsv", "adi/qrels.txt", "adi/queries.tsv"}

func copySmallMirror(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range smallFiles {
		b, err := os.ReadFile(testenv.Collection(t, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		os.MkdirAll(filepath.Dir(dst), 0o755)
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// datasetsCLI is a cli whose store is empty and whose mirror holds the
// small shared files.
func datasetsCLI(t *testing.T) (c *cli, store, mirror string) {
	c = newCLI(t)
	store, mirror = filepath.Join(c.dir, "store"), copySmallMirror(t)
	c.env = []string{"IRFLOW_DATASETS=" + store, "IRFLOW_DATASET_MIRROR=" + mirror}
	return c, store, mirror
}

type listJSON struct {
	Store    string `json:"store"`
	Datasets []struct {
		Name    string `json:"name"`
		License string `json:"license"`
		Size    int64  `json:"size"`
		Present int    `json:"present"`
		Files   []struct {
			Role, System, Path, SHA256, State, Local string
			Size                                     int64
		} `json:"files"`
	} `json:"datasets"`
}

func (c *cli) list() listJSON {
	c.t.Helper()
	res := c.irflow("datasets", "list", "--json")
	if res.code != 0 {
		c.t.Fatalf("list: exit %d\n%s", res.code, res.stderr)
	}
	var l listJSON
	if err := json.Unmarshal([]byte(res.stdout), &l); err != nil {
		c.t.Fatalf("list --json: %v\n%s", err, res.stdout)
	}
	return l
}

func TestDatasetsListFetchVerify(t *testing.T) {
	c, store, mirror := datasetsCLI(t)
	shared := testenv.SharedData(t)

	// list: every catalogued dataset, its files with their real sizes,
	// none in the store yet.
	l := c.list()
	if l.Store != store || len(l.Datasets) != 7 {
		t.Fatalf("store %s, %d datasets", l.Store, len(l.Datasets))
	}
	for _, d := range l.Datasets {
		if d.Present != 0 || d.License == "" {
			t.Errorf("%s: present %d, licence %q", d.Name, d.Present, d.License)
		}
		var total int64
		for _, f := range d.Files {
			total += f.Size
			if f.State != "missing" || f.Local != filepath.Join(store, filepath.FromSlash(f.Path)) {
				t.Errorf("%s %s: %s at %s", d.Name, f.Path, f.State, f.Local)
			}
			if st, err := os.Stat(filepath.Join(shared, filepath.FromSlash(f.Path))); err == nil && st.Size() != f.Size {
				t.Errorf("%s: size %d, the shared file has %d", f.Path, f.Size, st.Size())
			}
		}
		if total != d.Size {
			t.Errorf("%s: size %d, files sum to %d", d.Name, d.Size, total)
		}
	}
	text := c.irflow("datasets", "list")
	if text.code != 0 || !strings.Contains(text.stdout, "beir/scifact/train") || !strings.Contains(text.stdout, "claims CC BY 4.0") ||
		!strings.Contains(text.stdout, "runs.splade-pp-ed") || !strings.Contains(text.stdout, "missing (derived)") {
		t.Errorf("list:\n%s", text.stdout)
	}

	// fetch copies from the mirror and verifies.
	res := c.irflow("datasets", "fetch", "adi")
	if res.code != 0 {
		t.Fatalf("fetch adi: exit %d\n%s", res.code, res.stderr)
	}
	for _, p := range adiFiles {
		if !strings.Contains(res.stderr, "fetched  "+p) {
			t.Errorf("fetch output lacks %s:\n%s", p, res.stderr)
		}
		if got, want := sha256File(t, filepath.Join(store, p)), sha256File(t, filepath.Join(shared, p)); got != want {
			t.Errorf("%s: sha256 %s, shared file %s", p, got, want)
		}
	}
	for _, d := range c.list().Datasets {
		want := map[string]int{"adi": 4}[d.Name]
		if d.Present != want {
			t.Errorf("%s: %d present, want %d", d.Name, d.Present, want)
		}
	}
	// Fetched files are re-hashed, not transferred again.
	res = c.irflow("datasets", "fetch", "adi")
	if res.code != 0 || strings.Contains(res.stderr, "fetched") || strings.Count(res.stderr, "ok  ") != 4 {
		t.Errorf("second fetch: exit %d\n%s", res.code, res.stderr)
	}

	// Errors name the dataset and the file; unknown names get a suggestion.
	res = c.irflow("datasets", "fetch", "beir/scifact/train")
	if res.code != 1 || !strings.Contains(res.stderr, "beir/scifact/train") || !strings.Contains(res.stderr, "scifact/corpus.jsonl") ||
		!strings.Contains(res.stderr, filepath.Join(mirror, "scifact", "corpus.jsonl")) {
		t.Errorf("fetch without the corpus in the mirror: exit %d\n%s", res.code, res.stderr)
	}
	res = c.irflow("datasets", "fetch", "scifact/train")
	if res.code != 2 || !strings.Contains(res.stderr, `did you mean "beir/scifact/train"`) {
		t.Errorf("unknown name: exit %d\n%s", res.code, res.stderr)
	}
	if res := c.irflow("datasets", "fetch"); res.code != 2 {
		t.Errorf("fetch without names: exit %d", res.code)
	}
	if res := c.irflow("datasets", "frobnicate"); res.code != 2 {
		t.Errorf("unknown subcommand: exit %d", res.code)
	}

	res = c.irflow("datasets", "verify", "adi")
	if res.code != 0 || strings.Count(res.stdout, "ok ") != 4 || !strings.Contains(res.stdout, "4 file(s) verified") {
		t.Errorf("verify intact: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// TestDatasetsVerifyDamage damages the store in different ways; verify
// must report each problem with the dataset, the file, its path and the
// expected and actual sha256, and fail; fetch must repair it.
func TestDatasetsVerifyDamage(t *testing.T) {
	shared := testenv.SharedData(t)
	flip := func(p string) {
		b, _ := os.ReadFile(p)
		b[len(b)/2] ^= 0x20
		os.WriteFile(p, b, 0o644)
	}
	cases := []struct {
		name   string
		damage func(store string)
		args   []string
		code   int
		want   []string // fragments of stdout; %s is the store
	}{
		{"intact, all", func(string) {}, nil, 0, []string{"ok       adi  adi/qrels.txt", "4 file(s) verified"}},
		{"corrupt", func(s string) { flip(filepath.Join(s, "adi", "qrels.txt")) }, []string{"adi"}, 1,
			[]string{"CORRUPT  adi  adi/qrels.txt: %s/adi/qrels.txt has sha256 ", "want b2b569545f9a7067de6071e4a84d18d0ff3bc29bfe6b343deffb72ae2152aa43", "irflow datasets fetch adi"}},
		{"corrupt, all", func(s string) { flip(filepath.Join(s, "adi", "docs.tsv")) }, nil, 1,
			[]string{"CORRUPT  adi  adi/docs.tsv"}},
		{"truncated", func(s string) { os.Truncate(filepath.Join(s, "adi", "corpus.jsonl"), 100) }, []string{"adi"}, 1,
			[]string{"CORRUPT  adi  adi/corpus.jsonl", "(100 bytes), want ebf49170df25594ee9cf0276d1bafdeab10f8b6717d915fe52f1af0a661ccf9a (37391 bytes)"}},
		{"missing", func(s string) { os.Remove(filepath.Join(s, "adi", "queries.tsv")) }, []string{"adi"}, 1,
			[]string{"MISSING  adi  adi/queries.tsv: %s/adi/queries.tsv is not in the store"}},
		// Without names, files never fetched are no problem.
		{"missing, all", func(s string) { os.Remove(filepath.Join(s, "adi", "queries.tsv")) }, nil, 0,
			[]string{"3 file(s) verified"}},
		{"never fetched, named", func(string) {}, []string{"adi", "beir/scifact/test"}, 1,
			[]string{"MISSING  beir/scifact/test  scifact/qrels.txt"}},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			c, store, _ := datasetsCLI(t)
			if res := c.irflow("datasets", "fetch", "adi"); res.code != 0 {
				t.Fatalf("fetch: %s", res.stderr)
			}
			tc.damage(store)
			res := c.irflow(append([]string{"datasets", "verify"}, tc.args...)...)
			if res.code != tc.code {
				t.Errorf("exit %d, want %d\n%s%s", res.code, tc.code, res.stdout, res.stderr)
			}
			for _, w := range tc.want {
				if strings.Contains(w, "%s") {
					w = fmt.Sprintf(w, store)
				}
				if !strings.Contains(res.stdout, w) {
					t.Errorf("stdout lacks %q:\n%s", w, res.stdout)
				}
			}
			// The actual sha256 of a damaged file is the one reported.
			for _, p := range adiFiles {
				local := filepath.Join(store, p)
				if _, err := os.Stat(local); err != nil {
					continue
				}
				if got := sha256File(t, local); got != sha256File(t, filepath.Join(shared, p)) && !strings.Contains(res.stdout, "has sha256 "+got) {
					t.Errorf("%s: actual sha256 %s not reported:\n%s", p, got, res.stdout)
				}
			}
			if tc.code == 0 || len(tc.args) > 1 {
				return
			}
			res = c.irflow("datasets", "fetch", "adi")
			if res.code != 0 {
				t.Fatalf("repairing fetch: exit %d\n%s", res.code, res.stderr)
			}
			if res := c.irflow("datasets", "verify", "adi"); res.code != 0 {
				t.Errorf("after fetch: exit %d\n%s", res.code, res.stdout)
			}
		})
	}
}

// TestDatasetsFetchHTTP fetches through the download path from a loopback
// server, including a server whose content is damaged.
func TestDatasetsFetchHTTP(t *testing.T) {
	mirror := copySmallMirror(t)
	var bad bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := os.ReadFile(filepath.Join(mirror, filepath.FromSlash(strings.TrimPrefix(r.URL.Path, "/m/"))))
		if err != nil {
			http.NotFound(w, r)
			return
		}
		if bad && strings.HasSuffix(r.URL.Path, "qrels.txt") {
			data[5] ^= 1
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
	}))
	defer srv.Close()
	c := newCLI(t)
	store := filepath.Join(c.dir, "store")
	res := c.irflow("datasets", "fetch", "--store", store, "--mirror", srv.URL+"/m", "adi")
	if res.code != 0 {
		t.Fatalf("exit %d\n%s", res.code, res.stderr)
	}
	if !strings.Contains(res.stderr, "from "+srv.URL+"/m/adi/docs.tsv") {
		t.Errorf("no download line:\n%s", res.stderr)
	}
	if res := c.irflow("datasets", "verify", "--store", store, "adi"); res.code != 0 {
		t.Errorf("verify: %s", res.stdout)
	}
	bad = true
	store2 := filepath.Join(c.dir, "store2")
	res = c.irflow("datasets", "fetch", "--store", store2, "--mirror", srv.URL+"/m", "adi")
	if res.code != 1 || !strings.Contains(res.stderr, "irflow: adi: datasets: adi/qrels.txt from "+srv.URL+"/m/adi/qrels.txt: sha256 mismatch") {
		t.Errorf("damaged download: exit %d\n%s", res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(store2, "adi", "qrels.txt")); err == nil {
		t.Error("a damaged file was installed")
	}
}

// TestDatasetRecipePlan: a recipe naming a dataset plans once the store
// holds it, and its inputs have the same content digests as the shared
// files: after running the same stages on the shared files by path, every
// stage of the dataset recipe is cached.
func TestDatasetRecipePlan(t *testing.T) {
	c, store, _ := datasetsCLI(t)
	shared := testenv.SharedData(t)
	stages := `
index "flat" { docs = collection.adi.docs }

search "bm25" {
  index   = index.flat.index
  queries = collection.adi.queries
  k       = 10
}

evaluate "bm25" {
  run     = search.bm25.run
  qrels   = collection.adi.qrels
  metrics = ["nDCG@10"]
}
`
	byDataset := c.write("dataset.hcl", "\ncollection \"adi\" { dataset = \"adi\" }\n"+stages)
	byPath := c.write("paths.hcl", fmt.Sprintf(`
collection "adi" {
  docs    = %q
  queries = %q
  qrels   = %q
}
`, filepath.Join(shared, "adi", "docs.tsv"), filepath.Join(shared, "adi", "queries.tsv"), filepath.Join(shared, "adi", "qrels.txt"))+stages)

	// plan never downloads: it says how to get the dataset.
	res := c.irflow("plan", byDataset)
	if res.code != 3 || !strings.Contains(res.stderr, byDataset+":2:30: Cannot resolve dataset") ||
		!strings.Contains(res.stderr, "irflow datasets fetch adi") {
		t.Fatalf("plan before fetch: exit %d\n%s", res.code, res.stderr)
	}
	if _, err := os.Stat(store); err == nil {
		t.Error("plan wrote to the dataset store")
	}
	if res := c.irflow("datasets", "fetch", "adi"); res.code != 0 {
		t.Fatal(res.stderr)
	}
	res = c.irflow("plan", byDataset)
	if res.code != 0 || !strings.Contains(res.stdout, "Plan: 3 to run, 0 cached.") {
		t.Fatalf("plan after fetch: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}

	c.mustRun(byPath)
	res = c.irflow("plan", byDataset)
	if res.code != 0 || !strings.Contains(res.stdout, "Plan: 0 to run, 3 cached.") {
		t.Errorf("the dataset's inputs differ from the shared files:\n%s%s", res.stdout, res.stderr)
	}

	// irflow run fetches what the store lacks.
	c.env = append(c.env, "IRFLOW_DATASETS="+filepath.Join(c.dir, "fresh"))
	run := c.mustRun(byDataset)
	if n := stateCounts(run); len(run.Stages) != 3 || n[exec.Cached] != 3 {
		t.Errorf("run on a fresh store: %v", n)
	}
	if got := sha256File(t, filepath.Join(c.dir, "fresh", "adi", "qrels.txt")); got != sha256File(t, filepath.Join(shared, "adi", "qrels.txt")) {
		t.Error("run did not fetch the qrels")
	}
}
