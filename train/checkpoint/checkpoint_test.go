package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func save(t *testing.T, s *Store, step int64, content string) {
	t.Helper()
	err := s.Save(step, func(dir string) error {
		return os.WriteFile(filepath.Join(dir, "state.json"), []byte(content), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSaveLatestPrune(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := s.Latest(); ok || err != nil {
		t.Fatalf("empty store: ok=%v err=%v", ok, err)
	}
	for _, step := range []int64{10, 20, 30} {
		save(t, s, step, "step")
	}
	steps, _ := s.Steps()
	if len(steps) != 2 || steps[0] != 20 || steps[1] != 30 {
		t.Fatalf("steps after pruning = %v, want [20 30]", steps)
	}
	d, step, ok, err := s.Latest()
	if err != nil || !ok || step != 30 || filepath.Base(d) != Name(30) {
		t.Fatalf("Latest = %s %d %v %v", d, step, ok, err)
	}
}

func TestFailedWriteLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, 1)
	save(t, s, 5, "ok")
	boom := errors.New("boom")
	if err := s.Save(6, func(string) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	// A killed Save leaves a .tmp- directory: Open removes it.
	if err := os.Mkdir(filepath.Join(dir, ".tmp-123"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, 1); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != Name(5) {
		t.Fatalf("dir holds %v, want only %s", ents, Name(5))
	}
}

func TestCorruptIsReported(t *testing.T) {
	cases := []struct {
		name   string
		damage func(dir string)
		file   string
	}{
		{"flipped byte", func(d string) { os.WriteFile(filepath.Join(d, "state.json"), []byte("STATE"), 0o644) }, "state.json"},
		{"truncated", func(d string) { os.WriteFile(filepath.Join(d, "state.json"), []byte("st"), 0o644) }, "state.json"},
		{"missing file", func(d string) { os.Remove(filepath.Join(d, "state.json")) }, "state.json"},
		{"missing manifest", func(d string) { os.Remove(filepath.Join(d, ManifestFile)) }, ManifestFile},
		{"garbage manifest", func(d string) { os.WriteFile(filepath.Join(d, ManifestFile), []byte("{"), 0o644) }, ManifestFile},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, _ := Open(t.TempDir(), 1)
			save(t, s, 7, "state")
			c.damage(filepath.Join(s.Dir, Name(7)))
			_, _, ok, err := s.Latest()
			var ce *CorruptError
			if ok || !errors.As(err, &ce) || ce.File != c.file {
				t.Fatalf("Latest: ok=%v err=%v, want a CorruptError naming %s", ok, err, c.file)
			}
		})
	}
}
