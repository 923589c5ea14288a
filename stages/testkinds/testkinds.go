// Package testkinds provides small deterministic stage kinds for testing
// the pipeline engine: a slow chunked writer that resumes from its
// checkpoint directory, a concatenation, a directory splitter, a scorer
// that reports metrics, a lister of a model directory (local or "hf:"),
// and a stage that always fails.
//
// Nothing registers them by default: tests call Register, and
// `go build -tags irflowtest ./cmd/irflow` links them into the binary
// (cmd/irflow/stages_irflowtest.go). Every kind appends one line per
// execution, "<address>\t<pid>", to the file named by $IRFLOW_TESTKINDS_LOG,
// so tests can count how often each stage really ran.
package testkinds

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/irflow/irflow/pipeline/stage"
)

// LogEnv names the execution log file.
const LogEnv = "IRFLOW_TESTKINDS_LOG"

// Method is the method name of every test kind.
const Method = "test"

var once sync.Once

// Register adds the test kinds to the stage registry (once).
func Register() {
	once.Do(func() {
		for _, k := range Kinds() {
			stage.Register(k)
		}
	})
}

// Kinds returns fresh descriptions of the test kinds.
func Kinds() []*stage.Kind {
	delay := stage.Param{Name: "delay_ms", Type: stage.Number, Default: 0.0, Meta: true,
		Doc: "Sleep per chunk, to make the stage slow enough to interrupt."}
	return []*stage.Kind{
		{
			Block: "test_write", Method: Method, Version: 1,
			Doc: "Writes chunks*chunk_bytes deterministic pseudo-random bytes derived from seed, one checkpointed chunk at a time.",
			Params: []stage.Param{
				{Name: "seed", Type: stage.String, Required: true},
				{Name: "chunks", Type: stage.Number, Default: 8.0, Integer: true, Min: stage.AtLeast(0)},
				{Name: "chunk_bytes", Type: stage.Number, Default: 1024.0, Integer: true, Min: stage.Above(0)},
				delay,
			},
			Outputs: []stage.Output{{Name: "data", Path: "data.bin"}},
			Run:     runWrite,
		},
		{
			Block: "test_concat", Method: Method, Version: 1,
			Doc:     "Concatenates its inputs.",
			Params:  []stage.Param{{Name: "inputs", Type: stage.InputList, Required: true}, delay},
			Outputs: []stage.Output{{Name: "data", Path: "data.bin"}},
			Run:     runConcat,
		},
		{
			Block: "test_split", Method: Method, Version: 1,
			Doc: "Splits its input into a directory of parts.",
			Params: []stage.Param{
				{Name: "input", Type: stage.Input, Required: true},
				{Name: "parts", Type: stage.Number, Default: 3.0, Integer: true, Min: stage.Above(0)},
			},
			Outputs: []stage.Output{{Name: "parts", Path: "parts/"}},
			Run:     runSplit,
		},
		{
			Block: "test_score", Method: Method, Version: 1,
			Doc: "Reports metrics of its input: bytes, and mean byte value / 255 × scale.",
			Params: []stage.Param{
				{Name: "input", Type: stage.Input, Required: true},
				{Name: "scale", Type: stage.Number, Default: 1.0},
				{Name: "label", Type: stage.String, Default: "", Meta: true},
			},
			Outputs: []stage.Output{{Name: "metrics", Path: "metrics.json"}},
			Run:     runScore,
		},
		{
			Block: "test_list", Method: Method, Version: 1,
			Doc: "Lists the files of a directory (a path or an hf:org/name reference) with their sizes.",
			Params: []stage.Param{
				{Name: "model", Type: stage.Input, Required: true, Schemes: []string{"hf:"}},
			},
			Outputs: []stage.Output{{Name: "list", Path: "list.txt"}},
			Run:     runList,
		},
		{
			Block: "test_fail", Method: Method, Version: 1,
			Doc: "Always fails with message.",
			Params: []stage.Param{
				{Name: "input", Type: stage.Input},
				{Name: "message", Type: stage.String, Default: "deliberate failure"},
			},
			Outputs: []stage.Output{{Name: "data", Path: "data.bin"}},
			Run: func(ctx context.Context, job *stage.Job) error {
				logExecution(job)
				return errors.New(job.String("message"))
			},
		},
	}
}

func logExecution(job *stage.Job) {
	path := os.Getenv(LogEnv)
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s\t%d\n", job.Address, os.Getpid())
}

// Chunk returns chunk i of the writer's output for seed: sha256 in counter
// mode, so any chunk can be recomputed independently.
func Chunk(seed string, i, size int) []byte {
	out := make([]byte, 0, size+sha256.Size)
	var ctr [16]byte
	binary.BigEndian.PutUint64(ctr[:8], uint64(i))
	for j := uint64(0); len(out) < size; j++ {
		binary.BigEndian.PutUint64(ctr[8:], j)
		h := sha256.New()
		io.WriteString(h, seed)
		h.Write(ctr[:])
		out = h.Sum(out)
	}
	return out[:size]
}

func sleep(ctx context.Context, ms float64) error {
	if ms <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(time.Duration(ms * float64(time.Millisecond)))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func runWrite(ctx context.Context, job *stage.Job) error {
	logExecution(job)
	n, size := job.Int("chunks"), job.Int("chunk_bytes")
	if n < 0 || size < 0 {
		return fmt.Errorf("chunks and chunk_bytes must be ≥ 0")
	}
	bar := job.Progress("chunks", int64(n))
	defer bar.Done()
	resumed := 0
	for i := 0; i < n; i++ {
		name := filepath.Join(job.CheckpointDir, fmt.Sprintf("chunk-%06d", i))
		if _, err := os.Stat(name); err == nil {
			resumed++
			bar.Add(1)
			continue
		}
		if err := sleep(ctx, job.Float("delay_ms")); err != nil {
			return err
		}
		tmp := name + ".tmp"
		if err := os.WriteFile(tmp, Chunk(job.String("seed"), i, size), 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, name); err != nil {
			return err
		}
		bar.Add(1)
	}
	if resumed > 0 {
		job.Log.Info("resumed from checkpoint", "chunks", resumed)
	}
	out, err := os.Create(filepath.Join(job.OutDir, "data.bin"))
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		data, err := os.ReadFile(filepath.Join(job.CheckpointDir, fmt.Sprintf("chunk-%06d", i)))
		if err != nil {
			out.Close()
			return err
		}
		if _, err := out.Write(data); err != nil {
			out.Close()
			return err
		}
	}
	return out.Close()
}

func runConcat(ctx context.Context, job *stage.Job) error {
	logExecution(job)
	out, err := os.Create(filepath.Join(job.OutDir, "data.bin"))
	if err != nil {
		return err
	}
	defer out.Close()
	inputs, _ := job.Params["inputs"].([]string)
	for _, in := range inputs {
		if err := sleep(ctx, job.Float("delay_ms")); err != nil {
			return err
		}
		f, err := os.Open(in)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, f)
		f.Close()
		if err != nil {
			return err
		}
	}
	return out.Close()
}

func runSplit(ctx context.Context, job *stage.Job) error {
	logExecution(job)
	data, err := os.ReadFile(job.String("input"))
	if err != nil {
		return err
	}
	parts := job.Int("parts")
	if parts < 1 {
		return fmt.Errorf("parts must be ≥ 1")
	}
	dir := filepath.Join(job.OutDir, "parts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	step := (len(data) + parts - 1) / parts
	for i := 0; i < parts; i++ {
		lo, hi := min(i*step, len(data)), min((i+1)*step, len(data))
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("part-%03d", i)), data[lo:hi], 0o644); err != nil {
			return err
		}
	}
	return nil
}

func runScore(ctx context.Context, job *stage.Job) error {
	logExecution(job)
	data, err := os.ReadFile(job.String("input"))
	if err != nil {
		return err
	}
	sum := 0.0
	for _, b := range data {
		sum += float64(b)
	}
	mean := 0.0
	if len(data) > 0 {
		mean = sum / float64(len(data)) / 255 * job.Float("scale")
	}
	metrics := map[string]float64{"bytes": float64(len(data)), "mean_byte": mean}
	for k, v := range metrics {
		job.SetMetric(k, v)
	}
	enc, err := json.MarshalIndent(metrics, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(job.OutDir, "metrics.json"), append(enc, '\n'), 0o644)
}

func runList(ctx context.Context, job *stage.Job) error {
	logExecution(job)
	dir := job.String("model")
	var lines []byte
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := os.Stat(path) // hub snapshots hold symlinks to blobs
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		lines = fmt.Appendf(lines, "%s\t%d\n", filepath.ToSlash(rel), info.Size())
		return nil
	})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(job.OutDir, "list.txt"), lines, 0o644)
}
