package hf

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
)

// The safetensors format: an 8-byte little-endian header length N, N bytes
// of JSON mapping tensor names to {dtype, shape, data_offsets}, then the
// raw little-endian data; offsets are relative to the end of the header.

// maxHeaderBytes bounds the JSON header so a corrupt length cannot make us
// allocate gigabytes (real headers are a few hundred KB at most).
const maxHeaderBytes = 100 << 20

type stEntry struct {
	DType       string   `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

var dtypeSize = map[string]int{
	"F64": 8, "F32": 4, "F16": 2, "BF16": 2,
	"I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1,
}

// ReadSafetensors reads every tensor of a .safetensors file.
func ReadSafetensors(path string) ([]*Tensor, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	var lenBuf [8]byte
	if _, err := io.ReadFull(f, lenBuf[:]); err != nil {
		return nil, fmt.Errorf("%s: truncated safetensors file: no 8-byte header length (%d bytes)", path, size)
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > maxHeaderBytes || int64(n) > size-8 {
		return nil, fmt.Errorf("%s: corrupt safetensors header: header length %d but the file has %d bytes", path, n, size)
	}
	header := make([]byte, n)
	if _, err := io.ReadFull(f, header); err != nil {
		return nil, fmt.Errorf("%s: reading safetensors header: %w", path, err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(header, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("%s: corrupt safetensors header: %v at header byte %d", path, se, se.Offset)
		}
		return nil, fmt.Errorf("%s: corrupt safetensors header: %v", path, err)
	}
	dataStart := 8 + int64(n)
	dataLen := size - dataStart
	names := make([]string, 0, len(raw))
	for name := range raw {
		if name != "__metadata__" {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	out := make([]*Tensor, 0, len(names))
	for _, name := range names {
		var e stEntry
		if err := json.Unmarshal(raw[name], &e); err != nil {
			return nil, fmt.Errorf("%s: corrupt safetensors header entry for tensor %q: %v", path, name, err)
		}
		esize, ok := dtypeSize[e.DType]
		if !ok {
			return nil, fmt.Errorf("%s: tensor %q has unsupported dtype %q", path, name, e.DType)
		}
		begin, end := e.DataOffsets[0], e.DataOffsets[1]
		want := int64(numElements(e.Shape)) * int64(esize)
		if begin < 0 || end < begin || end-begin != want {
			return nil, fmt.Errorf("%s: tensor %q: data_offsets [%d %d] do not fit dtype %s and shape %v (%d bytes)", path, name, begin, end, e.DType, e.Shape, want)
		}
		if end > dataLen {
			return nil, fmt.Errorf("%s: truncated file: tensor %q ends at data byte %d but only %d data bytes are present", path, name, end, dataLen)
		}
		buf := make([]byte, end-begin)
		if _, err := f.ReadAt(buf, dataStart+begin); err != nil {
			return nil, fmt.Errorf("%s: reading tensor %q: %w", path, name, err)
		}
		t := &Tensor{Name: name, Shape: append([]int{}, e.Shape...), DType: e.DType}
		decodeInto(t, buf)
		out = append(out, t)
	}
	return out, nil
}

// decodeInto converts little-endian raw data of t.DType into t.F32 or t.I64.
func decodeInto(t *Tensor, b []byte) {
	n := len(b) / dtypeSize[t.DType]
	le := binary.LittleEndian
	switch t.DType {
	case "F32":
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
	case "F64":
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = float32(math.Float64frombits(le.Uint64(b[8*i:])))
		}
	case "F16":
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = halfToFloat32(le.Uint16(b[2*i:]))
		}
	case "BF16":
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = math.Float32frombits(uint32(le.Uint16(b[2*i:])) << 16)
		}
	case "I64":
		t.I64 = make([]int64, n)
		for i := range t.I64 {
			t.I64[i] = int64(le.Uint64(b[8*i:]))
		}
	case "I32":
		t.I64 = make([]int64, n)
		for i := range t.I64 {
			t.I64[i] = int64(int32(le.Uint32(b[4*i:])))
		}
	case "I16":
		t.I64 = make([]int64, n)
		for i := range t.I64 {
			t.I64[i] = int64(int16(le.Uint16(b[2*i:])))
		}
	case "I8":
		t.I64 = make([]int64, n)
		for i := range t.I64 {
			t.I64[i] = int64(int8(b[i]))
		}
	case "U8", "BOOL":
		t.I64 = make([]int64, n)
		for i := range t.I64 {
			t.I64[i] = int64(b[i])
		}
	}
}

// halfToFloat32 converts IEEE 754 binary16 to float32 exactly, including
// subnormals, infinities and NaN.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // inf / NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp != 0: // normal
		return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
	case mant == 0: // ±0
		return math.Float32frombits(sign)
	}
	// Subnormal: mant × 2^-24, exactly representable in float32.
	v := float32(mant) / (1 << 24)
	if sign != 0 {
		v = -v
	}
	return v
}

// WriteSafetensors writes float tensors as F32 and integer tensors as I64,
// in name order, to path (atomically: a temporary file then rename).
func WriteSafetensors(path string, tensors []*Tensor, metadata map[string]string) error {
	sorted := append([]*Tensor{}, tensors...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var off int64
	for _, t := range sorted {
		dtype, esize := "F32", int64(4)
		if t.F32 == nil {
			dtype, esize = "I64", 8
		}
		if got := len(t.F32) + len(t.I64); got != t.NumElements() {
			return fmt.Errorf("%s: tensor %q has %d values for shape %v", path, t.Name, got, t.Shape)
		}
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		n := int64(t.NumElements()) * esize
		header[t.Name] = stEntry{DType: dtype, Shape: shape, DataOffsets: [2]int64{off, off + n}}
		off += n
	}
	hb, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(hb)%8 != 0 { // keep the data 8-byte aligned, as the reference writer does
		hb = append(hb, ' ')
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	w := newErrWriter(f)
	var lenBuf [8]byte
	binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(hb)))
	w.write(lenBuf[:])
	w.write(hb)
	buf := make([]byte, 0, 1<<16)
	for _, t := range sorted {
		if t.F32 != nil {
			for _, v := range t.F32 {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
				if len(buf) >= 1<<16 {
					w.write(buf)
					buf = buf[:0]
				}
			}
		} else {
			for _, v := range t.I64 {
				buf = binary.LittleEndian.AppendUint64(buf, uint64(v))
				if len(buf) >= 1<<16 {
					w.write(buf)
					buf = buf[:0]
				}
			}
		}
	}
	w.write(buf)
	if w.err == nil {
		w.err = f.Sync()
	}
	if cerr := f.Close(); w.err == nil {
		w.err = cerr
	}
	if w.err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%s: %w", path, w.err)
	}
	return os.Rename(tmp, path)
}

type errWriter struct {
	w   io.Writer
	err error
}

func newErrWriter(w io.Writer) *errWriter { return &errWriter{w: w} }

func (e *errWriter) write(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}
