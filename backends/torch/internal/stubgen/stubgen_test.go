package stubgen

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The committed stub must match what the torch-tagged files declare;
// otherwise code that compiles with one build fails with the other.
func TestStubIsFresh(t *testing.T) {
	dir := filepath.Join("..", "..")
	want, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, StubFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale: run go generate ./backends/torch", StubFile)
	}
}

func TestGenerateCoversTaggedAPI(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("shared.go", "package p\n\nfunc Shared() {}\n")
	write("real_torch.go", `//go:build torch

package p

type Thing struct{ c int }

func hidden() {}

// Make makes a thing.
func Make(n int) (*Thing, error) { return &Thing{n}, nil }

func (t *Thing) Size() int { return t.c }

func (t *Thing) Split(a, b int) (x, y *Thing, err error) { return }
`)
	write("cuda_torch.go", "//go:build torch && cuda\n\npackage p\n\nfunc CUDA() bool { return true }\n")
	write("cpu_torch.go", "//go:build torch && !cuda\n\npackage p\n\nfunc CUDA() bool { return false }\n")
	write("other.go", "//go:build linux\n\npackage p\n\nfunc Linux() {}\n")
	src, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	for _, want := range []string{
		"//go:build !torch",
		"type Thing struct{}",
		"// Make makes a thing.\nfunc Make(n int) (r0 *Thing, r1 error) {\n\tr1 = ErrNotBuilt\n\treturn\n}",
		"func (t *Thing) Size() (r0 int) {\n\treturn\n}",
		"func (t *Thing) Split(a, b int) (r0 *Thing, r1 *Thing, r2 error) {\n\tr2 = ErrNotBuilt",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("stub lacks %q:\n%s", want, s)
		}
	}
	if strings.Count(s, "func CUDA()") != 1 {
		t.Errorf("CUDA() should appear once:\n%s", s)
	}
	for _, absent := range []string{"Shared", "hidden", "Linux"} {
		if strings.Contains(s, absent) {
			t.Errorf("stub should not contain %s:\n%s", absent, s)
		}
	}
}
