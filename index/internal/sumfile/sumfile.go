// Package sumfile writes and reads an index directory whose data files
// are listed with their sha256 in meta.json, written last: a build deletes
// meta.json first (the directory stops being an index), writes each file
// synced and hashed, then meta.json through a synced temporary file and a
// rename; an unfinished build removes what it wrote. Opening maps each
// file and checks its size and checksum. The approximate indexes
// (index/ivf, index/plaid, index/seismic) share it.
package sumfile

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"unsafe"

	"github.com/irflow/irflow/index/internal/mmapfile"
	"github.com/irflow/irflow/index/internal/vecfile"
)

// Writer writes an index's files. Errors stick: after the first, File
// does nothing and Finish returns it.
type Writer struct {
	pkg, dir string
	// Files maps each written file to its sha256 (hex), for meta.json.
	Files   map[string]string
	err     error
	written []string
	done    bool
}

// Start removes meta.json, then the named files of an earlier index, and
// returns a writer into dir; pkg prefixes errors.
func Start(pkg, dir string, names ...string) (*Writer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", pkg, err)
	}
	for _, name := range append([]string{vecfile.MetaFile}, names...) {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", pkg, err)
		}
	}
	return &Writer{pkg: pkg, dir: dir, Files: map[string]string{}}, nil
}

// File writes one file through fill, synced, and records its checksum.
func (w *Writer) File(name string, fill func(*bufio.Writer) error) {
	if w.err != nil {
		return
	}
	p := filepath.Join(w.dir, name)
	w.written = append(w.written, p)
	f, err := os.Create(p)
	if err != nil {
		w.err = fmt.Errorf("%s: %w", w.pkg, err)
		return
	}
	h := sha256.New()
	b := bufio.NewWriterSize(io.MultiWriter(f, h), 1<<20)
	err = fill(b)
	if err == nil {
		err = b.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		w.err = fmt.Errorf("%s: %s: %w", w.pkg, p, err)
		return
	}
	w.Files[name] = hex.EncodeToString(h.Sum(nil))
}

// Finish writes meta (which should hold Files) as meta.json and syncs the
// directory.
func (w *Writer) Finish(meta any) error {
	if w.err != nil {
		return w.err
	}
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(w.dir, vecfile.MetaFile+".tmp")
	if err := mmapfile.WriteSynced(tmp, append(b, '\n')); err != nil {
		return fmt.Errorf("%s: %w", w.pkg, err)
	}
	if err := os.Rename(tmp, filepath.Join(w.dir, vecfile.MetaFile)); err != nil {
		return fmt.Errorf("%s: %w", w.pkg, err)
	}
	if d, err := os.Open(w.dir); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", w.pkg, err)
		}
	}
	w.done = true
	return nil
}

// Abort removes what an unfinished build wrote (after Finish: nothing).
func (w *Writer) Abort() {
	if w.done {
		return
	}
	for _, p := range w.written {
		os.Remove(p)
	}
	os.Remove(filepath.Join(w.dir, vecfile.MetaFile+".tmp"))
}

// Map maps file name of m's directory, which must have size bytes and the
// sha256 files[name].
func Map(pkg string, m *vecfile.Mapped, files map[string]string, name string, size int64) ([]byte, error) {
	sum, ok := files[name]
	if !ok {
		return nil, fmt.Errorf("%s: %s: meta.json has no checksum for %s", pkg, m.Dir, name)
	}
	b, err := m.Map(pkg, name, size)
	if err != nil {
		return nil, err
	}
	if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != sum {
		return nil, fmt.Errorf("%s: %s: checksum mismatch (sha256 %s, meta.json says %s): the file is corrupt; rebuild the index",
			pkg, filepath.Join(m.Dir, name), hex.EncodeToString(h[:8]), sum[:min(16, len(sum))])
	}
	return b, nil
}

// MapAll maps every file of want (name → size) with Map, in name order so
// that the first error reported does not depend on map iteration.
func MapAll(pkg string, m *vecfile.Mapped, files map[string]string, want map[string]int64) (map[string][]byte, error) {
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	slices.Sort(names)
	maps := make(map[string][]byte, len(want))
	for _, name := range names {
		b, err := Map(pkg, m, files, name, want[name])
		if err != nil {
			return nil, err
		}
		maps[name] = b
	}
	return maps, nil
}

var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// F32s views little-endian float32s (a copy where the machine needs one).
func F32s(b []byte) []float32 {
	if len(b) < 4 {
		return nil
	}
	if littleEndian && uintptr(unsafe.Pointer(&b[0]))%4 == 0 {
		return unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

// PutF32 writes v little-endian.
func PutF32(w io.Writer, v []float32) error {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	_, err := w.Write(b)
	return err
}
