package bm25

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestNormsMatchLucene compares EncodeNorm/DecodeNorm with values printed
// by Lucene 9.9.1's SmallFloat itself (testdata/lucene_norms.txt).
func TestNormsMatchLucene(t *testing.T) {
	f, err := os.Open("testdata/lucene_norms.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	decodes, encodes := 0, 0
	for line := 1; sc.Scan(); line++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		in, _ := strconv.Atoi(fields[1])
		want, _ := strconv.Atoi(fields[2])
		switch fields[0] {
		case "decode":
			decodes++
			if got := DecodeNorm(byte(in)); got != want {
				t.Errorf("line %d: DecodeNorm(%d) = %d, Lucene %d", line, in, got, want)
			}
			if got := LengthTable[in]; got != float32(want) {
				t.Errorf("LengthTable[%d] = %v, want %d", in, got, want)
			}
		case "encode":
			encodes++
			if got := EncodeNorm(in); int(got) != want {
				t.Errorf("line %d: EncodeNorm(%d) = %d, Lucene %d", line, in, got, want)
			}
		}
	}
	if decodes != 256 || encodes < 30 {
		t.Fatalf("read %d decodes and %d encodes from the golden file", decodes, encodes)
	}
}

// TestNormsHandValues checks the encoding rules by hand: lengths below 24
// are exact, larger ones keep 4 significant bits and round down.
func TestNormsHandValues(t *testing.T) {
	for _, tc := range []struct {
		length  int
		enc     byte
		decoded int
	}{
		{0, 0, 0}, {1, 1, 1}, {23, 23, 23}, {24, 24, 24},
		// 100-24 = 76 = 0b1001100: 7 bits, shift 3, mantissa 0b001 → 32|1 = 33 → byte 57 → 24 + (9<<3) = 96
		{100, 57, 96},
		{31, 31, 31}, {32, 32, 32}, // 8 = 0b1000: numBits 4, shift 0 → (1<<3)|0 = 8 → 32
	} {
		if got := EncodeNorm(tc.length); got != tc.enc {
			t.Errorf("EncodeNorm(%d) = %d, want %d", tc.length, got, tc.enc)
		}
		if got := DecodeNorm(tc.enc); got != tc.decoded {
			t.Errorf("DecodeNorm(%d) = %d, want %d", tc.enc, got, tc.decoded)
		}
	}
	// Monotone, and decoding never overstates the length.
	prev := byte(0)
	for l := 0; l < 1<<20; l += 1 + l/64 {
		b := EncodeNorm(l)
		if b < prev {
			t.Fatalf("EncodeNorm not monotone at %d", l)
		}
		if DecodeNorm(b) > l {
			t.Fatalf("DecodeNorm(EncodeNorm(%d)) = %d > %d", l, DecodeNorm(b), l)
		}
		prev = b
	}
}
