// Package damage breaks index files on purpose, for the tests that check
// that a damaged dense or multi-vector index is refused with a clear
// error.
package damage

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// EditMeta replaces the first occurrence of old in dir/meta.json.
func EditMeta(t testing.TB, dir, old, new string) {
	t.Helper()
	p := filepath.Join(dir, "meta.json")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(old)) {
		t.Fatalf("meta.json lacks %s: %s", old, b)
	}
	if err := os.WriteFile(p, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// PutU64 overwrites the i-th little-endian uint64 of dir/name.
func PutU64(t testing.TB, dir, name string, i int, v uint64) {
	t.Helper()
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint64(b[8*i:], v)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
