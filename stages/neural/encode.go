package neural

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/charmbracelet/log"

	"github.com/irflow/irflow/internal/durable"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/models/inference"
	"github.com/irflow/irflow/pipeline/stage"
)

// shardEncoder encodes a collection into shards in a checkpoint directory.
// Shards already there are kept, so a killed encode resumes at the first
// missing shard and never encodes a committed shard again.
type shardEncoder struct {
	model     *inference.Model
	shape     Shape
	shardSize int
	dir       string
	log       *log.Logger
	progress  func(desc string, total int64) stage.Progress
	// onBatch feeds the progress display from the model's batch callback.
	onBatch *func(n int)
}

// checkpointInfo is written next to the shards: shards made with other
// settings than the current ones are not reused.
type checkpointInfo struct {
	Shape     string `json:"shape"`
	ShardSize int    `json:"shard_size"`
}

// prepare makes sure dir holds only shards of the current settings.
func (e *shardEncoder) prepare() error {
	if err := os.MkdirAll(e.dir, 0o755); err != nil {
		return err
	}
	want := checkpointInfo{Shape: e.shape.String(), ShardSize: e.shardSize}
	path := filepath.Join(e.dir, "encode.json")
	var have checkpointInfo
	if b, err := os.ReadFile(path); err == nil && json.Unmarshal(b, &have) == nil && have == want {
		return nil
	}
	old, _ := filepath.Glob(filepath.Join(e.dir, "shard-*.bin"))
	if len(old) > 0 && e.log != nil {
		e.log.Warn("discarding encoding shards made with other settings", "shards", len(old), "had", have, "want", want)
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	b, _ := json.Marshal(want)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	return durable.SyncDir(e.dir)
}

// countDocs reads the collection once to know its size (for shard count,
// progress and ETA) and to reject an empty one before any work.
func countDocs(path string) (int, error) {
	dr, closer, err := collection.OpenDocs(path)
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	n := 0
	for {
		if _, err := dr.Next(); err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
		n++
	}
}

// encodeAll encodes every document of path into shards; it returns the
// number of shards.
func (e *shardEncoder) encodeAll(ctx context.Context, path string, total int) (int, error) {
	if err := e.prepare(); err != nil {
		return 0, err
	}
	shards := (total + e.shardSize - 1) / e.shardSize
	todo := 0
	for i := 0; i < shards; i++ {
		if _, err := os.Stat(shardPath(e.dir, i)); err != nil {
			todo += min(e.shardSize, total-i*e.shardSize)
		}
	}
	if todo < total && e.log != nil {
		e.log.Info("resuming encode from checkpoint", "shards", shards, "docs left", todo, "of", total)
	}
	var prog stage.Progress
	if e.progress != nil && todo > 0 {
		prog = e.progress("encoding documents", int64(todo))
		defer prog.Done()
		*e.onBatch = func(n int) { prog.Add(int64(n)) }
		defer func() { *e.onBatch = nil }()
	}
	dr, closer, err := collection.OpenDocs(path)
	if err != nil {
		return 0, err
	}
	defer closer.Close()
	for i := 0; i < shards; i++ {
		n := min(e.shardSize, total-i*e.shardSize)
		ids := make([]string, 0, n)
		texts := make([]string, 0, n)
		for len(ids) < n {
			d, err := dr.Next()
			if err != nil {
				if errors.Is(err, io.EOF) {
					return 0, fmt.Errorf("%s changed while it was being encoded (ended after %d documents)", path, i*e.shardSize+len(ids))
				}
				return 0, err
			}
			ids = append(ids, d.ID)
			texts = append(texts, d.ModelText())
		}
		p := shardPath(e.dir, i)
		if _, err := os.Stat(p); err == nil {
			sh, err := readShard(p)
			if err != nil {
				return 0, err
			}
			if len(sh.Docs) != n || sh.Docs[0].ID != ids[0] || sh.Docs[n-1].ID != ids[n-1] {
				return 0, &CorruptShardError{Path: p, Why: "it holds other documents than the collection's"}
			}
			if e.log != nil {
				e.log.Debug("shard reused", "shard", i)
			}
			continue
		}
		start := time.Now()
		sh, err := e.encodeShard(ctx, ids, texts)
		if err != nil {
			return 0, err
		}
		if err := writeShard(e.dir, i, sh); err != nil {
			return 0, err
		}
		if e.log != nil {
			e.log.Debug("shard encoded", "shard", i, "docs", n, "docs/s", fmt.Sprintf("%.1f", float64(n)/time.Since(start).Seconds()))
		}
	}
	return shards, nil
}

// encodeShard runs the model over one shard's texts and keeps what the
// index needs: the vector (dense), the non-zero weights (sparse), or the
// token vectors that take part in scoring (multi-vector).
func (e *shardEncoder) encodeShard(ctx context.Context, ids, texts []string) (*Shard, error) {
	emb, err := e.model.EncodeDocs(ctx, texts)
	if err != nil {
		return nil, err
	}
	sh := &Shard{Shape: e.shape, Dim: emb.Dim, Docs: make([]Encoded, len(ids))}
	for i, id := range ids {
		sh.Docs[i] = toEncoded(e.shape, id, emb, i)
	}
	return sh, nil
}

// toEncoded converts text i of emb to the shard representation.
func toEncoded(shape Shape, id string, emb *inference.Embeddings, i int) Encoded {
	switch shape {
	case Sparse:
		terms, weights := sparseOf(emb.Vectors[i])
		return Encoded{ID: id, Terms: terms, Values: weights}
	case Multi:
		return Encoded{ID: id, Values: scoredTokens(emb.Vectors[i], emb.Mask[i], emb.Dim)}
	}
	return Encoded{ID: id, Values: emb.Vectors[i]}
}

// sparseOf keeps the non-zero entries of a vocabulary-sized vector.
func sparseOf(v []float32) ([]uint32, []float32) {
	var terms []uint32
	var weights []float32
	for t, w := range v {
		if w != 0 {
			terms = append(terms, uint32(t))
			weights = append(weights, w)
		}
	}
	return terms, weights
}

// scoredTokens keeps the token vectors whose scoring mask is set
// (Lightning IR's indexers store only those).
func scoredTokens(v []float32, mask []bool, dim int) []float32 {
	out := make([]float32, 0, len(v))
	for t, keep := range mask {
		if keep {
			out = append(out, v[t*dim:(t+1)*dim]...)
		}
	}
	return out
}

// shardFiles lists the shard paths 0..n-1.
func shardFiles(dir string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = shardPath(dir, i)
	}
	return out
}

// forEachEncoded reads the shards in order and hands every document to fn.
func forEachEncoded(paths []string, fn func(d Encoded, dim int) error) error {
	for _, p := range paths {
		sh, err := readShard(p)
		if err != nil {
			return err
		}
		for _, d := range sh.Docs {
			if err := fn(d, sh.Dim); err != nil {
				return err
			}
		}
	}
	return nil
}

// describe names a head for messages ("splade (mlm, relu_log, max)").
func describe(arch string, parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 {
		return arch
	}
	return arch + " (" + strings.Join(kept, ", ") + ")"
}
