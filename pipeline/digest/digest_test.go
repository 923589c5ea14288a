package digest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCombine(t *testing.T) {
	a := []Entry{{"x", "1"}, {"dir/y", "2"}}
	b := []Entry{{"dir/y", "2"}, {"x", "1"}}
	if Combine(a) != Combine(b) {
		t.Error("entry order changed the digest")
	}
	tests := []struct {
		name string
		e    []Entry
	}{
		{"renamed file", []Entry{{"z", "1"}, {"dir/y", "2"}}},
		{"changed content", []Entry{{"x", "3"}, {"dir/y", "2"}}},
		{"extra file", []Entry{{"x", "1"}, {"dir/y", "2"}, {"w", "4"}}},
		// Separators keep path and digest apart: "x"+"1" is not "x1"+"".
		{"shifted boundary", []Entry{{"x1", ""}, {"dir/y", "2"}}},
	}
	for _, tt := range tests {
		if Combine(tt.e) == Combine(a) {
			t.Errorf("%s: same digest", tt.name)
		}
	}
}

func TestPathOfFilesAndDirectories(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, rel)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("d/a.txt", "alpha")
	write("d/sub/b.txt", "beta")
	// sha256("alpha"), as printed by sha256sum.
	got, err := Path(filepath.Join(dir, "d", "a.txt"))
	if err != nil || got != "8ed3f6ad685b959ead7022518e1af76cd816f8e8ec7ccdda1ed4018e8f2223f8" {
		t.Errorf("file digest %s %v", got, err)
	}
	d, err := Path(filepath.Join(dir, "d"))
	if err != nil {
		t.Fatal(err)
	}
	want := Combine([]Entry{
		{"a.txt", "8ed3f6ad685b959ead7022518e1af76cd816f8e8ec7ccdda1ed4018e8f2223f8"},
		{"sub/b.txt", "f44e64e75f3948e9f73f8dfa94721c4ce8cbb4f265c4790c702b2d41cfbf2753"},
	})
	if b, _ := File(filepath.Join(dir, "d", "sub", "b.txt")); b != "f44e64e75f3948e9f73f8dfa94721c4ce8cbb4f265c4790c702b2d41cfbf2753" {
		t.Fatalf("sha256(beta) = %s", b)
	}
	if d != want {
		t.Errorf("dir digest %s, want %s", d, want)
	}
	// The same listing under another directory name: same digest.
	os.Rename(filepath.Join(dir, "d"), filepath.Join(dir, "e"))
	if e, _ := Path(filepath.Join(dir, "e")); e != d {
		t.Error("directory name changed the digest")
	}
	// Under extracts one output directory of an artifact's file list.
	art := []Entry{{"run.trec", "1"}, {"index/a", "2"}, {"index/b/c", "3"}, {"indexer", "4"}}
	if got := Under(art, "index/"); len(got) != 2 || got[0].Path != "a" || got[1].Path != "b/c" {
		t.Errorf("Under: %v", got)
	}
}

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{
		"8ed3f6ad685b959ead7022518e1af76cd816f8e8ec7ccdda1ed4018e8f2223f8": true,
		"8ED3F6AD685B959EAD7022518E1AF76CD816F8E8EC7CCDDA1ED4018E8F2223F8": false,
		"8ed3f6": false,
		"zed3f6ad685b959ead7022518e1af76cd816f8e8ec7ccdda1ed4018e8f2223f8": false,
	} {
		if Valid(s) != want {
			t.Errorf("Valid(%s) != %v", s, want)
		}
	}
}
