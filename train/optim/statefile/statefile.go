// Package statefile writes and reads training state (model weights,
// optimiser moments) as safetensors files that carry a sha256 of their
// contents in the header metadata, so that a damaged or truncated file is
// refused instead of silently resuming from wrong numbers. The files stay
// ordinary safetensors that any reader opens.
package statefile

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"sort"

	"github.com/irflow/irflow/models/hf"
)

// Key is the metadata entry holding the digest.
const Key = "irflow_sha256"

// Write writes tensors (float32 or int64, see hf.WriteSafetensors) and meta
// to path atomically, adding the digest of names, shapes, values and meta.
func Write(path string, tensors []*hf.Tensor, meta map[string]string) error {
	m := map[string]string{"format": "pt"}
	for k, v := range meta {
		m[k] = v
	}
	delete(m, Key)
	m[Key] = digest(tensors, m)
	return hf.WriteSafetensors(path, tensors, m)
}

// Read reads path, verifies its digest and returns the tensors by name and
// the metadata (without the digest entry).
func Read(path string) (map[string]*hf.Tensor, map[string]string, error) {
	meta, err := readMeta(path)
	if err != nil {
		return nil, nil, err
	}
	want, ok := meta[Key]
	if !ok {
		return nil, nil, fmt.Errorf("%s: not an irflow training state file (no %s in its metadata)", path, Key)
	}
	list, err := hf.ReadSafetensors(path)
	if err != nil {
		return nil, nil, err
	}
	delete(meta, Key)
	if got := digest(list, meta); got != want {
		return nil, nil, fmt.Errorf("%s: corrupt training state: content digest %s…, header says %s…", path, got[:12], want[:min(12, len(want))])
	}
	out := make(map[string]*hf.Tensor, len(list))
	for _, t := range list {
		out[t.Name] = t
	}
	return out, meta, nil
}

// digest hashes tensors in name order and meta in key order.
func digest(tensors []*hf.Tensor, meta map[string]string) string {
	sorted := append([]*hf.Tensor{}, tensors...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	h := sha256.New()
	var b [8]byte
	word := func(v uint64) {
		binary.LittleEndian.PutUint64(b[:], v)
		h.Write(b[:])
	}
	str := func(s string) {
		word(uint64(len(s)))
		io.WriteString(h, s)
	}
	for _, t := range sorted {
		str(t.Name)
		word(uint64(len(t.Shape)))
		for _, d := range t.Shape {
			word(uint64(d))
		}
		if t.F32 != nil {
			str("F32")
			buf := make([]byte, 0, 4*len(t.F32))
			for _, v := range t.F32 {
				buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
			}
			h.Write(buf)
		} else {
			str("I64")
			for _, v := range t.I64 {
				word(uint64(v))
			}
		}
	}
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		str(k)
		str(meta[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// readMeta reads the __metadata__ of a safetensors header.
func readMeta(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var lenBuf [8]byte
	if _, err := io.ReadFull(f, lenBuf[:]); err != nil {
		return nil, fmt.Errorf("%s: corrupt training state: no safetensors header (%d bytes)", path, st.Size())
	}
	n := binary.LittleEndian.Uint64(lenBuf[:])
	if n > 100<<20 || int64(n) > st.Size()-8 {
		return nil, fmt.Errorf("%s: corrupt training state: header length %d in a file of %d bytes", path, n, st.Size())
	}
	header := make([]byte, n)
	if _, err := io.ReadFull(f, header); err != nil {
		return nil, fmt.Errorf("%s: corrupt training state: %w", path, err)
	}
	var h struct {
		Meta map[string]string `json:"__metadata__"`
	}
	if err := json.Unmarshal(header, &h); err != nil {
		return nil, fmt.Errorf("%s: corrupt training state: header: %v", path, err)
	}
	if h.Meta == nil {
		h.Meta = map[string]string{}
	}
	return h.Meta, nil
}
