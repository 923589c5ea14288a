// Package vecfile is the storage shared by irflow's dense and multi-vector
// indexes: vector rows (float32 or float16, little-endian, back to back),
// an external id table, a meta.json written last, and memory-mapped
// readers that check file sizes against it.
package vecfile

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"unsafe"

	"github.com/irflow/irflow/index/internal/mmapfile"
	"github.com/irflow/irflow/internal/vecmath"
)

// File names inside an index directory.
const (
	MetaFile    = "meta.json"
	VectorsFile = "vectors.bin" // rows of Dim values
	IDsFile     = "ids.bin"     // external ids, concatenated
	IDOffsFile  = "idoffs.bin"  // NumDocs+1 uint64 offsets into ids.bin
)

// Similarities and DTypes are the accepted option values.
var (
	Similarities = []string{"dot", "cosine", "l2"}
	DTypes       = []string{"float32", "float16"}
)

// Check validates dim, dtype and similarity (empty values already
// defaulted by the caller).
func Check(pkg string, dim int, dtype, similarity string) error {
	if dim <= 0 {
		return fmt.Errorf("%s: dim must be positive, got %d", pkg, dim)
	}
	if !slices.Contains(DTypes, dtype) {
		return fmt.Errorf("%s: dtype %q not supported (want one of %q)", pkg, dtype, DTypes)
	}
	if !slices.Contains(Similarities, similarity) {
		return fmt.Errorf("%s: similarity %q not supported (want one of %q)", pkg, similarity, Similarities)
	}
	return nil
}

// ElemSize is the size in bytes of one stored value.
func ElemSize(dtype string) int {
	if dtype == "float16" {
		return 2
	}
	return 4
}

// bufSize is the write buffer of each file: memory stays constant in the
// number of documents.
const bufSize = 1 << 20

// file is a buffered output file that remembers its path for errors.
type file struct {
	path string
	f    *os.File
	w    *bufio.Writer
	err  error
}

func createFile(path string) (*file, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	return &file{path: path, f: f, w: bufio.NewWriterSize(f, bufSize)}, nil
}

func (f *file) write(b []byte) error {
	if f.err == nil {
		if _, err := f.w.Write(b); err != nil {
			f.err = fmt.Errorf("%s: %w", f.path, err)
		}
	}
	return f.err
}

func (f *file) writeString(b string) error {
	if f.err == nil {
		if _, err := f.w.WriteString(b); err != nil {
			f.err = fmt.Errorf("%s: %w", f.path, err)
		}
	}
	return f.err
}

// finish flushes, syncs and closes the file.
func (f *file) finish() error {
	if f.err != nil {
		f.f.Close()
		return f.err
	}
	err := f.w.Flush()
	if err == nil {
		err = f.f.Sync()
	}
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", f.path, err)
	}
	return nil
}

// Writer streams rows and ids into an index directory.
type Writer struct {
	Dir        string
	dim        int
	half       bool
	normalize  bool
	vecs       *file
	ids, offs  *file
	others     []*file
	rows, docs int64
	idBytes    uint64
	scratch    []float32
	halves     []uint16
	enc        []byte
	madeDir    bool
	closed     bool // Finish or Abort ran
	done       bool // Finish succeeded
}

// Create starts an index in dir (created if missing). Any meta.json left
// there is removed first, so the directory reads as unfinished until
// Finish writes a new one. normalize stores every row divided by its norm
// (cosine similarity). extra names further files the caller writes
// through Extra.
func Create(dir string, dim int, dtype string, normalize bool, extra ...string) (*Writer, error) {
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	w := &Writer{Dir: dir, dim: dim, half: dtype == "float16", normalize: normalize, madeDir: errors.Is(statErr, os.ErrNotExist)}
	if err := os.Remove(filepath.Join(dir, MetaFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	var err error
	for _, p := range []struct {
		name string
		dst  **file
	}{{VectorsFile, &w.vecs}, {IDsFile, &w.ids}, {IDOffsFile, &w.offs}} {
		if *p.dst, err = createFile(filepath.Join(dir, p.name)); err != nil {
			w.Abort()
			return nil, err
		}
	}
	for _, name := range extra {
		f, err := createFile(filepath.Join(dir, name))
		if err != nil {
			w.Abort()
			return nil, err
		}
		w.others = append(w.others, f)
	}
	return w, w.putOffset(0)
}

func (w *Writer) putOffset(v uint64) error {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	return w.offs.write(b[:])
}

// Add appends the next document: its external id and its rows (a
// multiple of dim values, all finite). Everything is checked before
// anything is written, so a refused document leaves the index as it was.
func (w *Writer) Add(id string, rows []float32) error {
	what := func() string { return fmt.Sprintf("document %d (%q)", w.docs, id) }
	if id == "" {
		return fmt.Errorf("document %d: empty id", w.docs)
	}
	if len(rows)%w.dim != 0 {
		return fmt.Errorf("%s: %d values is not a multiple of dim %d", what(), len(rows), w.dim)
	}
	if i := vecmath.CheckFinite(rows); i >= 0 {
		return fmt.Errorf("%s: vector %d, value %d is %v", what(), i/w.dim, i%w.dim, rows[i])
	}
	if w.normalize {
		w.scratch = append(w.scratch[:0], rows...)
		rows = w.scratch
		for r := 0; r < len(rows); r += w.dim {
			vecmath.Normalize(rows[r:r+w.dim], vecmath.CosineEps)
		}
	}
	var data []byte // rows in the file's encoding
	switch {
	case w.half:
		w.halves = slices.Grow(w.halves[:0], len(rows))[:len(rows)]
		h := w.halves
		vecmath.F32ToF16(h, rows)
		for i, v := range h {
			if v&0x7c00 == 0x7c00 {
				return fmt.Errorf("%s: vector %d, value %d (%g) overflows float16", what(), i/w.dim, i%w.dim, rows[i])
			}
		}
		w.enc = slices.Grow(w.enc[:0], 2*len(h))[:2*len(h)]
		for i, v := range h {
			binary.LittleEndian.PutUint16(w.enc[2*i:], v)
		}
		data = w.enc
	case littleEndian:
		data = unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(rows))), 4*len(rows))
	default:
		w.enc = slices.Grow(w.enc[:0], 4*len(rows))[:4*len(rows)]
		for i, v := range rows {
			binary.LittleEndian.PutUint32(w.enc[4*i:], math.Float32bits(v))
		}
		data = w.enc
	}
	if err := w.vecs.write(data); err != nil {
		return err
	}
	if err := w.ids.writeString(id); err != nil {
		return err
	}
	w.rows += int64(len(rows) / w.dim)
	w.idBytes += uint64(len(id))
	w.docs++
	return w.putOffset(w.idBytes)
}

// Extra appends bytes to the i-th extra file.
func (w *Writer) Extra(i int, b []byte) error { return w.others[i].write(b) }

// Rows and Docs count what was added.
func (w *Writer) Rows() int64 { return w.rows }
func (w *Writer) Docs() int64 { return w.docs }

// Finish flushes and syncs the data files, then writes meta (JSON) to
// meta.json through a synced temporary file and a rename, and syncs the
// directory: a reader sees either no meta.json or a complete index.
func (w *Writer) Finish(meta any) error {
	if w.closed {
		return errors.New("index writer already closed")
	}
	w.closed = true
	var first error
	for _, f := range append([]*file{w.vecs, w.ids, w.offs}, w.others...) {
		if err := f.finish(); err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		return first
	}
	b, err := json.MarshalIndent(meta, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(w.Dir, MetaFile+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(w.Dir, MetaFile))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(w.Dir, MetaFile), err)
	}
	d, err := os.Open(w.Dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return err
	}
	w.done = true
	return nil
}

// Abort closes and removes what the writer created (the directory too,
// if it made it and nothing else is there). After a successful Finish it
// does nothing, so it can be deferred.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.closed = true
	for _, f := range append([]*file{w.vecs, w.ids, w.offs}, w.others...) {
		if f != nil {
			f.f.Close()
			os.Remove(f.path)
		}
	}
	os.Remove(filepath.Join(w.Dir, MetaFile+".tmp"))
	if w.madeDir {
		os.Remove(w.Dir) // fails, harmlessly, if not empty
	}
}

// ReadMeta decodes dir/meta.json into meta; a missing file means the
// index was never finished.
func ReadMeta(pkg, dir string, meta any) error {
	p := filepath.Join(dir, MetaFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s: %s: no %s: not an index, or its build did not finish", pkg, dir, MetaFile)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", pkg, err)
	}
	if err := json.Unmarshal(b, meta); err != nil {
		return fmt.Errorf("%s: %s: %w", pkg, p, err)
	}
	return nil
}

// Mapped holds the memory-mapped files of an opened index.
type Mapped struct {
	Dir  string
	maps [][]byte
}

// Map maps dir/name read-only and checks its size.
func (m *Mapped) Map(pkg, name string, wantSize int64) ([]byte, error) {
	p := filepath.Join(m.Dir, name)
	b, err := mmapfile.Map(p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkg, err)
	}
	if int64(len(b)) != wantSize {
		mmapfile.Unmap(b)
		return nil, fmt.Errorf("%s: %s: %d bytes, meta.json implies %d: truncated or not this index's file", pkg, p, len(b), wantSize)
	}
	m.maps = append(m.maps, b)
	return b, nil
}

// Close unmaps every file.
func (m *Mapped) Close() error {
	var first error
	for _, b := range m.maps {
		if err := mmapfile.Unmap(b); err != nil && first == nil {
			first = err
		}
	}
	m.maps = nil
	return first
}

var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// Offsets reads n+1 little-endian uint64 offsets and checks that they
// start at 0, never decrease and end at total; what names them in errors.
func Offsets(pkg, path string, b []byte, total uint64) ([]uint64, error) {
	var offs []uint64
	if littleEndian && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%8 == 0 {
		offs = unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8)
	} else {
		offs = make([]uint64, len(b)/8)
		for i := range offs {
			offs[i] = binary.LittleEndian.Uint64(b[8*i:])
		}
	}
	if len(offs) == 0 || offs[0] != 0 {
		return nil, fmt.Errorf("%s: %s: first offset is not 0", pkg, path)
	}
	for i := 1; i < len(offs); i++ {
		if offs[i] < offs[i-1] {
			return nil, fmt.Errorf("%s: %s: offset %d (%d) is below offset %d (%d): corrupt", pkg, path, i, offs[i], i-1, offs[i-1])
		}
	}
	if last := offs[len(offs)-1]; last != total {
		return nil, fmt.Errorf("%s: %s: last offset %d, want %d: corrupt", pkg, path, last, total)
	}
	return offs, nil
}

// IDs is the external id table.
type IDs struct {
	data []byte
	offs []uint64
}

// OpenIDs maps ids.bin and idoffs.bin for n documents.
func OpenIDs(pkg string, m *Mapped, n int) (IDs, error) {
	ob, err := m.Map(pkg, IDOffsFile, 8*int64(n+1))
	if err != nil {
		return IDs{}, err
	}
	st, err := os.Stat(filepath.Join(m.Dir, IDsFile))
	if err != nil {
		return IDs{}, fmt.Errorf("%s: %w", pkg, err)
	}
	data, err := m.Map(pkg, IDsFile, st.Size())
	if err != nil {
		return IDs{}, err
	}
	offs, err := Offsets(pkg, filepath.Join(m.Dir, IDOffsFile), ob, uint64(len(data)))
	if err != nil {
		return IDs{}, err
	}
	return IDs{data: data, offs: offs}, nil
}

// ID returns document i's id (a copy: it outlives the mapping).
func (t IDs) ID(i int) string { return string(t.data[t.offs[i]:t.offs[i+1]]) }

// Rows reads stored vector rows as float32.
type Rows struct {
	Dim  int
	f32  []float32 // float32 rows viewed in place (little-endian hosts)
	raw  []byte
	half bool
}

// OpenRows maps vectors.bin holding n rows.
func OpenRows(pkg string, m *Mapped, n int64, dim int, dtype string) (Rows, error) {
	raw, err := m.Map(pkg, VectorsFile, n*int64(dim)*int64(ElemSize(dtype)))
	if err != nil {
		return Rows{}, err
	}
	r := Rows{Dim: dim, raw: raw, half: dtype == "float16"}
	if !r.half && littleEndian && len(raw) > 0 && uintptr(unsafe.Pointer(&raw[0]))%4 == 0 {
		r.f32 = unsafe.Slice((*float32)(unsafe.Pointer(&raw[0])), len(raw)/4)
	}
	return r, nil
}

// Get returns rows lo..hi as float32: a view of the mapping for float32
// rows, else decoded into buf (grown as needed; pass the result back in
// next time).
func (r Rows) Get(lo, hi int, buf []float32) []float32 {
	a, b := lo*r.Dim, hi*r.Dim
	if r.f32 != nil {
		return r.f32[a:b:b]
	}
	out := slices.Grow(buf[:0], b-a)[:b-a]
	if r.half {
		src := r.raw[2*a : 2*b]
		if littleEndian {
			vecmath.F16ToF32(out, unsafe.Slice((*uint16)(unsafe.Pointer(unsafe.SliceData(src))), b-a))
		} else {
			h := make([]uint16, b-a)
			for i := range h {
				h[i] = binary.LittleEndian.Uint16(src[2*i:])
			}
			vecmath.F16ToF32(out, h)
		}
		return out
	}
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(r.raw[4*(a+i):]))
	}
	return out
}
