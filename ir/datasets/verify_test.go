package datasets_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/datasets"
)

// smallMirror is a mirror holding copies of the small files only (ADI and
// the SciFact queries and qrels), never the large ones.
func smallMirror(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range []string{
		"adi/docs.tsv", "adi/corpus.jsonl", "adi/queries.tsv", "adi/qrels.txt",
		"scifact/queries.tsv", "scifact/qrels.txt", "scifact/queries.train.tsv", "scifact/qrels.train.txt",
	} {
		b, err := os.ReadFile(testenv.Collection(t, filepath.FromSlash(p)))
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func roleFile(t *testing.T, name, role string) datasets.File {
	t.Helper()
	d, ok := datasets.Lookup(name)
	if !ok {
		t.Fatalf("no dataset %s", name)
	}
	for _, r := range d.Roles() {
		if r.Role == role {
			return r.File
		}
	}
	t.Fatalf("%s has no %s", name, role)
	return datasets.File{}
}

func TestRoles(t *testing.T) {
	for _, name := range datasets.Names() {
		d, _ := datasets.Lookup(name)
		roles := d.Roles()
		var got []string
		var systems []string
		for _, r := range roles {
			got = append(got, r.Role)
			if r.File.Path == "" || len(r.File.SHA256) != 64 || r.File.Size <= 0 {
				t.Errorf("%s %s: not a catalogued file: %+v", name, r.Role, r.File)
			}
			if r.Role == datasets.RoleRuns {
				systems = append(systems, r.System)
				if d.Runs[r.System] != r.File.Path {
					t.Errorf("%s run %s: %s, want %s", name, r.System, r.File.Path, d.Runs[r.System])
				}
			}
		}
		want := []string{"docs", "corpus", "queries", "qrels"}
		for range d.Runs {
			want = append(want, "runs")
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: roles %q, want %q", name, got, want)
		}
		if !slices.IsSorted(systems) || !reflect.DeepEqual(systems, d.Systems()) {
			t.Errorf("%s: systems %q, Systems() %q", name, systems, d.Systems())
		}
		for i, p := range []string{d.Docs, d.Corpus, d.Queries, d.Qrels} {
			if roles[i].File.Path != p && !roles[i].Derived {
				t.Errorf("%s %s: %s, want %s", name, roles[i].Role, roles[i].File.Path, p)
			}
		}
		// Only DL20 has unjudged queries: its judged query file is derived.
		if derived := roles[2].Derived; derived != (name == "msmarco-passage/trec-dl-2020/judged") {
			t.Errorf("%s: queries derived = %v", name, derived)
		}
	}
}

func TestSuggest(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"beir/scifact/trian", "beir/scifact/train"},
		{"scifact/train", "beir/scifact/train"},
		{"trec-dl-2019/judged", "msmarco-passage/trec-dl-2019/judged"},
		{"vaswany", "vaswani"},
		{"cranfeld", "cranfield"},
		{"msmarco", ""},
		{"", ""},
	} {
		if got := datasets.Suggest(c.in); got != c.want {
			t.Errorf("Suggest(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestVerify damages a fetched file in different ways; Verify must say
// what is wrong with the sizes and hashes the file really has.
func TestVerify(t *testing.T) {
	mirror := smallMirror(t)
	qrels := roleFile(t, "adi", datasets.RoleQrels)
	cases := []struct {
		name    string
		damage  func(path string) error
		missing bool
	}{
		{"intact", func(string) error { return nil }, false},
		{"missing", os.Remove, true},
		{"flipped byte", func(p string) error {
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0x01
			return os.WriteFile(p, b, 0o644)
		}, false},
		{"truncated", func(p string) error { return os.Truncate(p, qrels.Size-7) }, false},
		{"appended", func(p string) error {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			f.WriteString("1 0 1 1\n")
			return f.Close()
		}, false},
		{"only a partial download", func(p string) error { return os.Rename(p, p+".part") }, true},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "_"), func(t *testing.T) {
			st := store(t, mirror)
			path, err := st.Fetch(context.Background(), qrels)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.damage(path); err != nil {
				t.Fatal(err)
			}
			err = st.Verify(qrels)
			if c.name == "intact" {
				if err != nil {
					t.Fatalf("intact file: %v", err)
				}
				return
			}
			var ve *datasets.VerifyError
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want a *VerifyError", err)
			}
			if ve.Path != path || ve.Missing != c.missing || ve.File != qrels {
				t.Errorf("%+v", ve)
			}
			if !strings.Contains(err.Error(), "adi/qrels.txt") || !strings.Contains(err.Error(), path) {
				t.Errorf("message names neither file nor path: %v", err)
			}
			if c.missing {
				return
			}
			got := sha(t, path)
			fi, _ := os.Stat(path)
			if ve.SHA256 != got || ve.Size != fi.Size() {
				t.Errorf("reported %d bytes sha256 %s; the file has %d bytes sha256 %s", ve.Size, ve.SHA256, fi.Size(), got)
			}
			for _, s := range []string{got, qrels.SHA256, "corrupt"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message lacks %s: %v", s, err)
				}
			}
			// Remove clears the way for a fresh transfer, which repairs it.
			if err := st.Remove(qrels); err != nil {
				t.Fatal(err)
			}
			if _, err := st.Fetch(context.Background(), qrels); err != nil {
				t.Fatal(err)
			}
			if err := st.Verify(qrels); err != nil {
				t.Errorf("after a fresh fetch: %v", err)
			}
		})
	}
}

func TestState(t *testing.T) {
	st := store(t, smallMirror(t))
	f := roleFile(t, "adi", datasets.RoleDocs)
	path, _ := st.Path(f)
	check := func(want datasets.State, wantN int64) {
		t.Helper()
		if got, n := st.State(f); got != want || n != wantN {
			t.Errorf("state %v %d, want %v %d", got, n, want, wantN)
		}
	}
	check(datasets.Missing, 0)
	os.MkdirAll(filepath.Dir(path), 0o755)
	os.WriteFile(path+".part", []byte("12345"), 0o644)
	check(datasets.Partial, 5)
	if _, err := st.Fetch(context.Background(), f); err != nil {
		t.Fatal(err)
	}
	check(datasets.Present, f.Size)
	// A file of the wrong size is not taken for the catalogued one.
	os.Truncate(path, 10)
	check(datasets.Missing, 0)
}

// TestOfflineStore: an offline store answers from what it holds and never
// transfers or creates anything.
func TestOfflineStore(t *testing.T) {
	mirror := smallMirror(t)
	dir := filepath.Join(t.TempDir(), "store")
	off := &datasets.Store{Dir: dir, Mirror: mirror, Offline: true}
	_, err := off.Resolve(context.Background(), "adi")
	if !errors.Is(err, datasets.ErrNotInStore) || !strings.Contains(err.Error(), "dataset adi") || !strings.Contains(err.Error(), "adi/") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("offline resolve created %s", dir)
	}
	on := &datasets.Store{Dir: dir, Mirror: mirror}
	want, err := on.Resolve(context.Background(), "adi")
	if err != nil {
		t.Fatal(err)
	}
	got, err := off.Resolve(context.Background(), "adi")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("offline after fetch: %+v %v, want %+v", got, err, want)
	}
}

// TestProgress: the progress callback counts up to the file's size, and a
// resumed transfer starts counting at the bytes it kept.
func TestProgress(t *testing.T) {
	srv := newServer(t)
	f := roleFile(t, "adi", datasets.RoleCorpus)
	for _, kept := range []int64{0, 1000} {
		st := store(t, srv.URL+"/data")
		if kept > 0 {
			data, _ := os.ReadFile(testenv.Collection(t, "adi", "corpus.jsonl"))
			path, _ := st.Path(f)
			os.MkdirAll(filepath.Dir(path), 0o755)
			os.WriteFile(path+".part", data[:kept], 0o644)
		}
		var seen []int64
		st.Progress = func(pf datasets.File, done int64) {
			if pf.Path != f.Path {
				t.Errorf("progress of %s", pf.Path)
			}
			seen = append(seen, done)
		}
		if _, err := st.Fetch(context.Background(), f); err != nil {
			t.Fatal(err)
		}
		if len(seen) < 2 || seen[0] != kept || seen[len(seen)-1] != f.Size || !slices.IsSorted(seen) {
			t.Errorf("kept %d: progress %v, want %d … %d ascending", kept, seen, kept, f.Size)
		}
	}
}
