package neural

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/irflow/irflow/internal/durable"
)

// A shard holds the encoded vectors of a fixed run of documents (shard i
// holds documents i·size … (i+1)·size−1 in collection order). Shards are
// the checkpoint of a long encode: each is written to a temporary file,
// synced and renamed into the checkpoint directory, so a shard that exists
// under its final name is complete; its trailing sha256 catches a file
// damaged afterwards.
//
// Layout: magic "IRFSHRD1", shape byte, dim uint32, docs uint32; per
// document: id (uvarint length + bytes), n (uvarint), then n records —
// dense/multi: n×dim float32; sparse: n × (term uint32, weight float32);
// then the sha256 of everything before it. Little-endian throughout.
const shardMagic = "IRFSHRD1"

// Shape is how one document's encoding is laid out.
type Shape byte

const (
	// Dense is one vector of dim values per document.
	Dense Shape = 1
	// Sparse is a sparse vector: (term, weight) pairs, terms increasing.
	Sparse Shape = 2
	// Multi is n token vectors of dim values per document.
	Multi Shape = 3
)

func (s Shape) String() string {
	switch s {
	case Dense:
		return "dense"
	case Sparse:
		return "sparse"
	case Multi:
		return "multi-vector"
	}
	return fmt.Sprintf("shape(%d)", byte(s))
}

// Encoded is one document's encoding.
type Encoded struct {
	ID string
	// Values: dense → dim values; multi → n·dim values; sparse → weights.
	Values []float32
	// Terms are the vocabulary ids of a sparse vector (nil otherwise).
	Terms []uint32
}

// Shard is the decoded content of one shard file.
type Shard struct {
	Shape Shape
	Dim   int
	Docs  []Encoded
}

func shardPath(dir string, i int) string {
	return filepath.Join(dir, fmt.Sprintf("shard-%06d.bin", i))
}

// writeShard writes sh atomically as shard i of dir.
func writeShard(dir string, i int, sh *Shard) error {
	var buf bytes.Buffer
	buf.WriteString(shardMagic)
	buf.WriteByte(byte(sh.Shape))
	binary.Write(&buf, binary.LittleEndian, uint32(sh.Dim))
	binary.Write(&buf, binary.LittleEndian, uint32(len(sh.Docs)))
	var tmp [binary.MaxVarintLen64]byte
	uvarint := func(v uint64) { buf.Write(tmp[:binary.PutUvarint(tmp[:], v)]) }
	f32 := func(v float32) {
		binary.LittleEndian.PutUint32(tmp[:4], math.Float32bits(v))
		buf.Write(tmp[:4])
	}
	for _, d := range sh.Docs {
		uvarint(uint64(len(d.ID)))
		buf.WriteString(d.ID)
		switch sh.Shape {
		case Sparse:
			uvarint(uint64(len(d.Terms)))
			for j, t := range d.Terms {
				binary.LittleEndian.PutUint32(tmp[:4], t)
				buf.Write(tmp[:4])
				f32(d.Values[j])
			}
		default:
			uvarint(uint64(len(d.Values) / sh.Dim))
			for _, v := range d.Values {
				f32(v)
			}
		}
	}
	sum := sha256.Sum256(buf.Bytes())
	buf.Write(sum[:])

	final := shardPath(dir, i)
	f, err := os.CreateTemp(dir, ".shard-*.tmp")
	if err != nil {
		return err
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return err
	}
	if err := os.Rename(f.Name(), final); err != nil {
		os.Remove(f.Name())
		return err
	}
	return durable.SyncDir(dir)
}

// CorruptShardError says a checkpoint shard failed its checks.
type CorruptShardError struct {
	Path string
	Why  string
}

func (e *CorruptShardError) Error() string {
	return fmt.Sprintf("%s: corrupt encoding shard (%s); delete it and run again to re-encode its documents", e.Path, e.Why)
}

// readShard reads and verifies a shard file.
func readShard(path string) (*Shard, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	bad := func(why string, a ...any) error { return &CorruptShardError{Path: path, Why: fmt.Sprintf(why, a...)} }
	head := len(shardMagic) + 1 + 8
	if len(data) < head+sha256.Size {
		return nil, bad("%d bytes, too short", len(data))
	}
	body, sum := data[:len(data)-sha256.Size], data[len(data)-sha256.Size:]
	if got := sha256.Sum256(body); !bytes.Equal(got[:], sum) {
		return nil, bad("checksum mismatch")
	}
	if string(body[:len(shardMagic)]) != shardMagic {
		return nil, bad("not a shard file")
	}
	sh := &Shard{Shape: Shape(body[len(shardMagic)])}
	sh.Dim = int(binary.LittleEndian.Uint32(body[len(shardMagic)+1:]))
	n := int(binary.LittleEndian.Uint32(body[len(shardMagic)+5:]))
	r := bufio.NewReader(bytes.NewReader(body[head:]))
	var b4 [4]byte
	u32 := func() (uint32, error) {
		_, err := io.ReadFull(r, b4[:])
		return binary.LittleEndian.Uint32(b4[:]), err
	}
	for k := 0; k < n; k++ {
		idLen, err := binary.ReadUvarint(r)
		if err != nil || idLen > 1<<20 {
			return nil, bad("document %d: bad id", k)
		}
		id := make([]byte, idLen)
		if _, err := io.ReadFull(r, id); err != nil {
			return nil, bad("document %d: truncated", k)
		}
		cnt, err := binary.ReadUvarint(r)
		if err != nil || cnt > uint64(len(body)) {
			return nil, bad("document %d: bad length", k)
		}
		d := Encoded{ID: string(id)}
		switch sh.Shape {
		case Sparse:
			d.Terms = make([]uint32, cnt)
			d.Values = make([]float32, cnt)
			for j := range d.Terms {
				t, err1 := u32()
				w, err2 := u32()
				if errors.Join(err1, err2) != nil {
					return nil, bad("document %d: truncated", k)
				}
				d.Terms[j], d.Values[j] = t, math.Float32frombits(w)
			}
		case Dense, Multi:
			d.Values = make([]float32, int(cnt)*sh.Dim)
			for j := range d.Values {
				w, err := u32()
				if err != nil {
					return nil, bad("document %d: truncated", k)
				}
				d.Values[j] = math.Float32frombits(w)
			}
		default:
			return nil, bad("unknown shape %d", sh.Shape)
		}
		sh.Docs = append(sh.Docs, d)
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return nil, bad("trailing bytes")
	}
	return sh, nil
}
