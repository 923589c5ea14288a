package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// A matrix is a 2-D little-endian float32 array read from a .npy file (or
// a raw .f32 file with a given width).
type matrix struct {
	rows, cols int
	data       []float32
}

var npyHeader = regexp.MustCompile(`'descr':\s*'([<>|]?[a-z]\d+)'.*'fortran_order':\s*(True|False).*'shape':\s*\((\d+),\s*(\d+)\)`)

// readMatrix reads path: .npy with dtype <f4, C order, 2-D; or raw .f32
// rows of cols values.
func readMatrix(path string, cols int) (*matrix, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := &matrix{}
	off := 0
	if strings.HasSuffix(path, ".npy") {
		if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
			return nil, fmt.Errorf("%s: not a .npy file", path)
		}
		hl, start := int(binary.LittleEndian.Uint16(b[8:])), 10
		if b[6] >= 2 {
			hl, start = int(binary.LittleEndian.Uint32(b[8:])), 12
		}
		if start+hl > len(b) {
			return nil, fmt.Errorf("%s: truncated .npy header", path)
		}
		g := npyHeader.FindStringSubmatch(string(b[start : start+hl]))
		if g == nil || g[1] != "<f4" || g[2] != "False" {
			return nil, fmt.Errorf("%s: want a 2-D C-order <f4 array, header %q", path, b[start:start+hl])
		}
		m.rows, _ = strconv.Atoi(g[3])
		m.cols, _ = strconv.Atoi(g[4])
		off = start + hl
	} else {
		if cols <= 0 {
			return nil, fmt.Errorf("%s: a raw float32 file needs -dim", path)
		}
		m.rows, m.cols = len(b)/(4*cols), cols
	}
	if len(b)-off != 4*m.rows*m.cols {
		return nil, fmt.Errorf("%s: %d data bytes for a %d×%d float32 array", path, len(b)-off, m.rows, m.cols)
	}
	m.data = make([]float32, m.rows*m.cols)
	for i := range m.data {
		m.data[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[off+4*i:]))
	}
	return m, nil
}

// writeNpy writes a 2-D float32 (descr <f4) or int64 (<i8) array.
func writeNpy(path, descr string, rows, cols int, data []byte) error {
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%d, %d), }", descr, rows, cols)
	pad := 64 - (10+len(h)+1)%64
	h += strings.Repeat(" ", pad%64) + "\n"
	out := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	out = append(out, h...)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := f.Write(out); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func float32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}
