package mmapfile

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestMapAndU32s(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		data []byte
		want []uint32
	}{
		{nil, nil},
		{[]byte{1, 2, 3}, nil},
		{[]byte{1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff}, []uint32{1, 0xffffffff}},
		{[]byte{0x78, 0x56, 0x34, 0x12, 9}, []uint32{0x12345678}},
	} {
		path := filepath.Join(dir, "f")
		if err := os.WriteFile(path, tc.data, 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := Map(path)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(b, tc.data) && len(b)+len(tc.data) > 0 {
			t.Errorf("Map = %v, want %v", b, tc.data)
		}
		if got := U32s(b); !slices.Equal(got, tc.want) {
			t.Errorf("U32s(%v) = %v, want %v", tc.data, got, tc.want)
		}
		if got := U32s(tc.data[min(1, len(tc.data)):]); len(tc.data) > 4 && len(got) != (len(tc.data)-1)/4 {
			t.Errorf("unaligned U32s has %d values", len(got))
		}
		if err := Unmap(b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Map(filepath.Join(dir, "missing")); err == nil {
		t.Error("Map of a missing file succeeded")
	}
}

func TestWriteSynced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x")
	if err := WriteSynced(path, []byte("abc")); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "abc" {
		t.Fatalf("%q %v", b, err)
	}
	if err := WriteSynced(filepath.Join(t.TempDir(), "no", "dir"), nil); err == nil {
		t.Error("no error for a missing directory")
	}
}
