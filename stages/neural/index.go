package neural

import (
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"

	densex "github.com/irflow/irflow/index/dense"
	multix "github.com/irflow/irflow/index/multivector"
	sparsex "github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/pipeline/stage"
)

func runIndex(ctx context.Context, job *stage.Job, m string) error {
	shardSize := job.Int("shard_size")
	if shardSize <= 0 {
		return fmt.Errorf("%s: shard_size = %d: want > 0", job.Address, shardSize)
	}
	docsPath := job.String("docs")
	total, err := countDocs(docsPath)
	if err != nil {
		return err
	}
	if total == 0 {
		return fmt.Errorf("%s: %s holds no documents: nothing to index", job.Address, docsPath)
	}
	memoryMB := job.Float("memory_mb")
	defer limitMemory(memoryMB)()

	var onBatch func(int)
	model, digest, err := loadModel(ctx, job, m, &onBatch)
	if err != nil {
		return err
	}
	defer model.Close()
	model.SetMaxBatchTokens(maxBatchTokens(memoryMB, model.Config.VocabSize, model.Head.Projection == "mlm"))

	shape := map[string]Shape{MethodDense: Dense, MethodSparse: Sparse, MethodMultivector: Multi}[m]
	ckpt := job.CheckpointDir
	if ckpt == "" {
		if ckpt, err = os.MkdirTemp("", "irflow-encode-"); err != nil {
			return err
		}
		defer os.RemoveAll(ckpt)
	}
	enc := &shardEncoder{model: model, shape: shape, shardSize: shardSize, dir: filepath.Join(ckpt, "shards"),
		log: job.Log, progress: job.Progress, onBatch: &onBatch}
	if job.Log != nil {
		job.Log.Info("encoding", "docs", total, "head", model.Head.Architecture, "shards", (total+shardSize-1)/shardSize)
	}
	n, err := enc.encodeAll(ctx, docsPath, total)
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	shards := shardFiles(enc.dir, n)

	outDir := filepath.Join(job.OutDir, "index")
	data := filepath.Join(outDir, dataDir)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	info := indexInfo{Format: InfoFormat, Method: m, Model: digest, Head: model.Head, Docs: total}
	var prog stage.Progress
	if job.Progress != nil {
		prog = job.Progress("writing index", int64(total))
		defer prog.Done()
	}
	added := func() {
		if prog != nil {
			prog.Add(1)
		}
	}
	switch m {
	case MethodDense:
		info.Dim, err = writeDense(data, shards, job.String("dtype"), model.Head.Similarity, added)
	case MethodMultivector:
		info.Dim, err = writeMulti(data, shards, model.Head.Similarity, model.Head.DocAggregation, added)
	case MethodSparse:
		info.Dim, err = writeSparse(ctx, data, shards, model.Config.VocabSize, job.Float("quantization"), memoryMB, job.Threads, added)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", job.Address, err)
	}
	job.SetMetric("docs", float64(total))
	return writeInfo(outDir, info)
}

// vectorWriter is what the dense and multi-vector index writers share.
type vectorWriter interface {
	Add(id string, vec []float32) error
	Abort()
}

// writeVectors streams the shards' vectors into the writer that create
// opens once the dimension is known; closeW finishes it and returns the
// stored dimension.
func writeVectors[W vectorWriter](shards []string, added func(), create func(dim int) (W, error), closeW func(W) (int, error)) (int, error) {
	var w W
	opened := false
	err := forEachEncoded(shards, func(d Encoded, dim int) error {
		if !opened {
			var err error
			if w, err = create(dim); err != nil {
				return err
			}
			opened = true
		}
		if !finite(d.Values) {
			return fmt.Errorf("document %q: the model gave a non-finite vector", d.ID)
		}
		added()
		return w.Add(d.ID, d.Values)
	})
	if err != nil {
		if opened {
			w.Abort()
		}
		return 0, err
	}
	return closeW(w)
}

func writeDense(dir string, shards []string, dtype, similarity string, added func()) (int, error) {
	if dtype != "float32" && dtype != "float16" {
		return 0, fmt.Errorf("dtype = %q: want \"float32\" or \"float16\"", dtype)
	}
	return writeVectors(shards, added,
		func(dim int) (*densex.Writer, error) {
			return densex.Create(dir, densex.Options{Dim: dim, DType: dtype, Similarity: similarity})
		},
		func(w *densex.Writer) (int, error) {
			meta, err := w.Close()
			if err != nil {
				return 0, err
			}
			return meta.Dim, nil
		})
}

func writeMulti(dir string, shards []string, similarity, docAgg string, added func()) (int, error) {
	return writeVectors(shards, added,
		func(dim int) (*multix.Writer, error) {
			return multix.Create(dir, multix.Options{Dim: dim, DType: "float32", Similarity: similarity, DocAggregation: docAgg})
		},
		func(w *multix.Writer) (int, error) {
			meta, err := w.Close()
			if err != nil {
				return 0, err
			}
			return meta.Dim, nil
		})
}

func writeSparse(ctx context.Context, dir string, shards []string, vocab int, scale, memoryMB float64, threads int, added func()) (int, error) {
	if scale < 0 {
		return 0, fmt.Errorf("quantization = %v: want ≥ 0 (0 = float weights)", scale)
	}
	docs := func(yield func(sparsex.Doc, error) bool) {
		stop := fmt.Errorf("stop")
		err := forEachEncoded(shards, func(d Encoded, _ int) error {
			if !finite(d.Values) {
				return fmt.Errorf("document %q: the model gave a non-finite weight", d.ID)
			}
			added()
			if !yield(sparsex.Doc{ID: d.ID, Terms: d.Terms, Weights: d.Values}, nil) {
				return stop
			}
			return nil
		})
		if err != nil && err != stop {
			yield(sparsex.Doc{}, err)
		}
	}
	meta, err := sparsex.Build(ctx, iter.Seq2[sparsex.Doc, error](docs), dir, sparsex.BuildOptions{
		VocabSize:    vocab,
		Scale:        scale,
		MemoryBudget: int64(memoryMB * (1 << 20) / 2),
		Threads:      threads,
	})
	if err != nil {
		return 0, err
	}
	return meta.VocabSize, nil
}
