package launch_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/launch"
	"github.com/irflow/irflow/pipeline/stage"
)

// A kind with every parameter type, to see each survive the spec file.
var kind = &stage.Kind{
	Block: "launch_test", Method: "t", Version: 3,
	Params: []stage.Param{
		{Name: "s", Type: stage.String},
		{Name: "n", Type: stage.Number},
		{Name: "b", Type: stage.Bool},
		{Name: "l", Type: stage.StringList},
		{Name: "m", Type: stage.StringMap},
		{Name: "in", Type: stage.Input},
		{Name: "ins", Type: stage.InputList},
	},
	Outputs: []stage.Output{{Name: "out", Path: "out.txt"}},
	Run: func(ctx context.Context, job *stage.Job) error {
		// Job's typed accessors return zero values for the wrong Go type:
		// the output shows whether every parameter arrived typed.
		var b strings.Builder
		b.WriteString(job.String("s") + "|")
		b.WriteString(strings.Join(job.Strings("l"), ",") + "|")
		b.WriteString(job.StringMap("m")["k"] + "|")
		b.WriteString(strings.Join(job.Strings("ins"), ",") + "|")
		if job.Bool("b") {
			b.WriteString("true|")
		}
		job.SetMetric("n", job.Float("n"))
		return os.WriteFile(filepath.Join(job.OutDir, "out.txt"), []byte(b.String()), 0o644)
	},
}

func init() { stage.Register(kind) }

func spec(cacheDir string) *launch.Spec {
	return &launch.Spec{
		Schema: launch.SpecSchema, Key: strings.Repeat("ab", 32), Address: "launch_test.x", Recipe: "/r.hcl",
		Block: "launch_test", Method: "t", Version: 3,
		Params: map[string]any{
			"s": "text", "n": 0.1, "b": true, "l": []string{"x", "y"}, "m": map[string]string{"k": "v"},
			"in": "/data/in.txt", "ins": []string{"/a", "/b"},
		},
		Inputs:   map[string]string{"in": "d1"},
		CacheDir: cacheDir, Threads: 2, LogLevel: "debug",
	}
}

func TestSpecRoundTrip(t *testing.T) {
	want := spec(t.TempDir())
	dir := t.TempDir()
	path, err := want.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := want.Write(dir); err != nil { // a second write replaces the first
		t.Fatalf("rewriting the spec: %v", err)
	}
	got, err := launch.ReadSpec(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back\n%#v\nwant\n%#v", got, want)
	}
}

func TestReadSpecErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(s *launch.Spec)
		want string
	}{
		{"unknown kind", func(s *launch.Spec) { s.Method = "nope" }, "no stage kind launch_test/nope"},
		{"other kind version", func(s *launch.Spec) { s.Version = 2 }, "version 3 here, the spec was planned for version 2"},
		{"other schema", func(s *launch.Spec) { s.Schema = 99 }, "spec schema 99"},
		{"no cache", func(s *launch.Spec) { s.CacheDir = "" }, "no key or no cache_dir"},
		{"list of numbers", func(s *launch.Spec) { s.Params["l"] = []float64{1} }, "parameter l: element 0: want a string"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := spec("/c")
			tc.edit(s)
			path, err := s.Write(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			_, err = launch.ReadSpec(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// A spec read back from its file runs to the same artifact as the spec
// in memory: the in-process path and exec-stage's path commit the same
// bytes and the same manifest fields.
func TestExecuteFromFileMatchesInMemory(t *testing.T) {
	var manifests []*cache.Manifest
	for _, fromFile := range []bool{false, true} {
		c, err := cache.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		s := spec(c.Dir)
		if fromFile {
			path, err := s.Write(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			if s, err = launch.ReadSpec(path); err != nil {
				t.Fatal(err)
			}
		}
		m, err := launch.Execute(context.Background(), c, s, kind, launch.Env{Owner: cache.Owner{Host: "h", PID: 1}})
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(c.ObjectDir(s.Key), "out.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if want := "text|x,y|v|/a,/b|true|"; string(data) != want {
			t.Errorf("fromFile=%v: stage saw %q, want %q", fromFile, data, want)
		}
		if _, err := os.Stat(c.CheckpointDir(s.Key)); !os.IsNotExist(err) {
			t.Errorf("checkpoint dir left after the commit: %v", err)
		}
		manifests = append(manifests, m)
	}
	a, b := manifests[0], manifests[1]
	for _, m := range []*cache.Manifest{a, b} {
		m.Start, m.End, m.Seconds = m.Start.AddDate(-100, 0, 0), m.End.AddDate(-100, 0, 0), 0
	}
	a.Start, a.End = b.Start, b.End
	if !reflect.DeepEqual(a, b) {
		t.Errorf("manifests differ:\n%+v\n%+v", a, b)
	}
	if a.Metrics["n"] != 0.1 {
		t.Errorf("metric n = %v, want 0.1", a.Metrics["n"])
	}
}

func TestTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	os.WriteFile(path, []byte("1\n2\n3\n4\n"), 0o644)
	for _, tc := range []struct {
		n    int
		want string
	}{{2, "3\n4"}, {4, "1\n2\n3\n4"}, {10, "1\n2\n3\n4"}} {
		if got := launch.Tail(path, tc.n); got != tc.want {
			t.Errorf("Tail(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
	if got := launch.Tail(path+".missing", 3); got != "" {
		t.Errorf("Tail of a missing file = %q", got)
	}
}
