package testkinds

import (
	"bytes"
	"testing"
)

func TestChunkIsDeterministicAndDistinct(t *testing.T) {
	a := Chunk("seed", 3, 100)
	if len(a) != 100 || !bytes.Equal(a, Chunk("seed", 3, 100)) {
		t.Fatal("chunk not deterministic")
	}
	for _, other := range [][]byte{Chunk("seed", 4, 100), Chunk("seeD", 3, 100)} {
		if bytes.Equal(a, other) {
			t.Error("different chunks are equal")
		}
	}
	// A longer chunk extends a shorter one: sizes do not reshuffle bytes.
	if !bytes.HasPrefix(Chunk("seed", 3, 1000), a) {
		t.Error("prefix property")
	}
	if len(Chunk("s", 0, 0)) != 0 {
		t.Error("empty chunk")
	}
}

func TestKindsAreWellFormed(t *testing.T) {
	for _, k := range Kinds() {
		if k.Block == "" || k.Method != Method || k.Version < 1 || k.Run == nil || len(k.Outputs) == 0 {
			t.Errorf("%+v", k)
		}
	}
}
