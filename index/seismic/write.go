package seismic

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/irflow/irflow/index/internal/sumfile"
	"github.com/irflow/irflow/internal/durable"
	"github.com/irflow/irflow/train/checkpoint"
)

// writer writes an index's files through sumfile (meta.json removed
// first and written last, every file synced and hashed, a partial build
// removed), with several files open at once: the build appends to them
// term by term, which sumfile's one-file-at-a-time File cannot. The files
// are written in work: the index directory itself, or, for a build with a
// checkpoint, a directory of the checkpoint whose files survive a kill and
// are linked into the index directory once complete.
type writer struct {
	sf      *sumfile.Writer
	dir     string
	work    string
	meta    *Meta
	streams map[string]*stream
	names   []string // in the order created
	linked  []string
}

type stream struct {
	f      *os.File
	h      hash.Hash
	b      *bufio.Writer
	closed bool
	size   int64 // once closed
}

func (w *writer) start() error {
	sf, err := sumfile.Start(pkg, w.dir, dataFiles...)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(w.work, 0o755); err != nil {
		return fmt.Errorf("%s: %w", pkg, err)
	}
	w.sf, w.streams = sf, map[string]*stream{}
	return nil
}

func (w *writer) create(name string) (*bufio.Writer, error) {
	f, err := os.Create(filepath.Join(w.work, name))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkg, err)
	}
	return w.add(name, f, sha256.New()), nil
}

func (w *writer) add(name string, f *os.File, h hash.Hash) *bufio.Writer {
	s := &stream{f: f, h: h}
	s.b = bufio.NewWriterSize(io.MultiWriter(f, s.h), 1<<20)
	w.streams[name] = s
	w.names = append(w.names, name)
	return s.b
}

// reopen continues file name of an interrupted build from a checkpoint
// that recorded its first size bytes with the sha256 sum: a longer file
// (written after the checkpoint) is cut back, a shorter one or one whose
// first size bytes differ is a *checkpoint.CorruptError. A closed file
// stays closed, with its checksum recorded.
func (w *writer) reopen(name string, size int64, sum []byte, closed bool) (*bufio.Writer, error) {
	path := filepath.Join(w.work, name)
	corrupt := func(why string, a ...any) error {
		return &checkpoint.CorruptError{Dir: w.work, File: name, Why: fmt.Sprintf(why, a...)}
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, corrupt("missing, the checkpoint recorded %d bytes", size)
	} else if err != nil {
		return nil, fmt.Errorf("%s: %w", pkg, err)
	}
	fail := func(err error) (*bufio.Writer, error) { f.Close(); return nil, err }
	st, err := f.Stat()
	if err != nil {
		return fail(fmt.Errorf("%s: %w", pkg, err))
	}
	if st.Size() < size {
		return fail(corrupt("%d bytes, the checkpoint recorded %d", st.Size(), size))
	}
	if st.Size() > size {
		if err := f.Truncate(size); err != nil {
			return fail(fmt.Errorf("%s: %w", pkg, err))
		}
	}
	h := sha256.New()
	if _, err := io.Copy(h, bufio.NewReaderSize(io.LimitReader(f, size), 1<<20)); err != nil {
		return fail(fmt.Errorf("%s: %s: %w", pkg, path, err))
	}
	if !bytes.Equal(h.Sum(nil), sum) {
		return fail(corrupt("its first %d bytes are not those the checkpoint recorded (sha256 differs)", size))
	}
	b := w.add(name, f, h)
	if closed {
		return nil, w.close(name)
	}
	return b, nil
}

// mark returns a file's size and sha256 so far, flushed and synced, for a
// checkpoint.
func (w *writer) mark(name string) (size int64, sum []byte, closed bool, err error) {
	s := w.streams[name]
	if s.closed {
		return s.size, s.h.Sum(nil), true, nil
	}
	if err := s.b.Flush(); err != nil {
		return 0, nil, false, fmt.Errorf("%s: %s: %w", pkg, s.f.Name(), err)
	}
	if err := s.f.Sync(); err != nil {
		return 0, nil, false, fmt.Errorf("%s: %s: %w", pkg, s.f.Name(), err)
	}
	size, err = s.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return 0, nil, false, fmt.Errorf("%s: %s: %w", pkg, s.f.Name(), err)
	}
	return size, s.h.Sum(nil), false, nil
}

// close flushes, syncs and closes a file and records its checksum.
func (w *writer) close(name string) error {
	s := w.streams[name]
	err := s.b.Flush()
	if err == nil {
		err = s.f.Sync()
	}
	if err == nil {
		s.size, err = s.f.Seek(0, io.SeekCurrent)
	}
	if cerr := s.f.Close(); err == nil {
		err = cerr
	}
	s.closed = true
	if err != nil {
		return fmt.Errorf("%s: %s: %w", pkg, s.f.Name(), err)
	}
	w.meta.Files[name] = hex.EncodeToString(s.h.Sum(nil))
	return nil
}

// finish closes every file, links the files of a checkpoint's directory
// into the index directory (they stay in the checkpoint until it is
// removed, so a kill before meta.json loses nothing) and writes meta.json.
func (w *writer) finish() error {
	for _, name := range w.names {
		if !w.streams[name].closed {
			if err := w.close(name); err != nil {
				return err
			}
		}
	}
	if w.work != w.dir {
		for _, name := range w.names {
			dst := filepath.Join(w.dir, name)
			w.linked = append(w.linked, dst)
			if err := linkOrCopy(filepath.Join(w.work, name), dst); err != nil {
				return fmt.Errorf("%s: %w", pkg, err)
			}
		}
		if err := durable.SyncDir(w.dir); err != nil {
			return fmt.Errorf("%s: %w", pkg, err)
		}
	}
	if err := w.sf.Finish(w.meta); err != nil {
		return err
	}
	w.names, w.linked = nil, nil // done: abort keeps the files
	return nil
}

// linkOrCopy hard-links src to dst, or copies it (synced) where the two
// are on different file systems.
func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	return durable.CopyFile(src, dst)
}

// abort removes what an unfinished build wrote into the index directory;
// a checkpoint's files stay for the build that resumes.
func (w *writer) abort() {
	for _, s := range w.streams {
		if !s.closed {
			s.f.Close()
		}
	}
	if w.work == w.dir {
		for _, name := range w.names {
			os.Remove(filepath.Join(w.dir, name))
		}
	}
	for _, p := range w.linked {
		os.Remove(p)
	}
	w.sf.Abort()
}

// The put functions append to the writer's free buffer (no allocation
// per value).
func putU16(b *bufio.Writer, v uint16) error {
	_, err := b.Write(binary.LittleEndian.AppendUint16(b.AvailableBuffer(), v))
	return err
}

func putU32(b *bufio.Writer, v uint32) error {
	_, err := b.Write(binary.LittleEndian.AppendUint32(b.AvailableBuffer(), v))
	return err
}

func putU64(b *bufio.Writer, v uint64) error {
	_, err := b.Write(binary.LittleEndian.AppendUint64(b.AvailableBuffer(), v))
	return err
}

func putU64s(b *bufio.Writer, vs []uint64) error {
	for _, v := range vs {
		if err := putU64(b, v); err != nil {
			return err
		}
	}
	return nil
}

func putF32(b *bufio.Writer, v float32) error { return putU32(b, math.Float32bits(v)) }

// ctxErr is checked between units of work.
func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", pkg, err)
	}
	return nil
}
