package seismic_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/index/internal/stepckpt/stepckpttest"
	"github.com/irflow/irflow/index/seismic"
	"github.com/irflow/irflow/index/sparse"
	"github.com/irflow/irflow/train/checkpoint"
)

// builder is a stepckpttest.Build of src with the test options, seed and
// two threads.
func builder(src *sparse.Index, seed uint64) stepckpttest.Build {
	return func(out, ckpt string, log, debug func(string)) error {
		o := opts()
		o.Seed, o.Threads, o.CheckpointDir, o.Log, o.Debug = seed, 2, ckpt, log, debug
		_, err := seismic.Build(context.Background(), out, src, o)
		return err
	}
}

// A build resumed from the checkpoint of any step (what a SIGKILL right
// after it leaves) writes the bytes of a build without a checkpoint and
// commits only the steps after it; quantised and float values.
func TestResumeFromEveryCheckpoint(t *testing.T) {
	defer seismic.SetMinStepKept(6000)()
	docs, vocab := synthDocs(500, 1)
	for _, c := range []struct {
		name  string
		scale float64
	}{{"quantised", 100}, {"float", 0}} {
		t.Run(c.name, func(t *testing.T) {
			n := stepckpttest.CheckResume(t, 4, 6, builder(buildSparse(t, docs, vocab, c.scale), 7))
			t.Logf("%d steps", n)
		})
	}
}

// What a kill leaves besides the committed steps: files longer than their
// step recorded (appended after it) are cut back; a file shorter than
// recorded, or one whose bytes differ (byte flipped), or a damaged step
// record makes the checkpoint corrupt (an error naming it, no index); a
// checkpoint of another seed or another sparse index is discarded.
func TestForeignOrDamagedCheckpoint(t *testing.T) {
	defer seismic.SetMinStepKept(6000)()
	docs, vocab := synthDocs(500, 1)
	src := buildSparse(t, docs, vocab, 100)
	build := builder(src, 7)
	tmp := t.TempDir()
	if _, err := stepckpttest.Run(build, filepath.Join(tmp, "plain"), ""); err != nil {
		t.Fatal(err)
	}
	want := stepckpttest.Files(t, filepath.Join(tmp, "plain"))

	// A checkpoint copied after the third step, and the full one.
	ckpt, mid := filepath.Join(tmp, "ckpt"), filepath.Join(tmp, "mid")
	steps := 0
	if err := build(filepath.Join(tmp, "ref"), ckpt, func(string) {}, func(string) {
		if steps++; steps == 3 {
			if err := os.CopyFS(mid, os.DirFS(ckpt)); err != nil {
				t.Fatal(err)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	last, _ := filepath.Glob(filepath.Join(ckpt, "blocks", "step-*"))
	if len(last) < 4 {
		t.Fatalf("%d steps", len(last))
	}

	t.Run("longer files", func(t *testing.T) {
		c := filepath.Join(t.TempDir(), "ckpt")
		if err := os.CopyFS(c, os.DirFS(mid)); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{seismic.BlockDocsFile, seismic.SumCodesFile, seismic.ListSumsFile} {
			f, err := os.OpenFile(filepath.Join(c, "files", name), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write([]byte("written after the step"))
			f.Close()
		}
		out := filepath.Join(t.TempDir(), "ix")
		l, err := stepckpttest.Run(build, out, c)
		if err != nil {
			t.Fatal(err)
		}
		stepckpttest.Same(t, "resumed over longer files", stepckpttest.Files(t, out), want)
		if !l.Says("resuming") {
			t.Errorf("no resuming line: %q", l.Info)
		}
	})
	t.Run("shorter file", func(t *testing.T) {
		c := filepath.Join(t.TempDir(), "ckpt")
		if err := os.CopyFS(c, os.DirFS(mid)); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(c, "files", seismic.SumTermsFile)
		st, _ := os.Stat(p)
		if err := os.Truncate(p, st.Size()-4); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "ix")
		_, err := stepckpttest.Run(build, out, c)
		var ce *checkpoint.CorruptError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), p[:len(p)-len(seismic.SumTermsFile)-1]) || ce.File != seismic.SumTermsFile {
			t.Fatalf("truncated %s: %v", p, err)
		}
		if _, err := os.Stat(filepath.Join(out, "meta.json")); err == nil {
			t.Error("the build left an index")
		}
	})
	for _, pattern := range []string{"files/" + seismic.FwdFile, "files/" + seismic.SumOffsFile, "files/" + seismic.ListBlocksFile,
		"blocks/" + filepath.Base(last[len(last)-1]) + "/state"} {
		t.Run("damaged "+pattern, func(t *testing.T) { stepckpttest.CheckDamaged(t, ckpt, pattern, build) })
	}
	t.Run("another seed", func(t *testing.T) { stepckpttest.CheckForeign(t, ckpt, builder(src, 8)) })
	t.Run("another sparse index", func(t *testing.T) {
		other := append([]sparse.Doc(nil), docs...)
		d := other[5]
		d.Weights = append([]float32(nil), d.Weights...)
		d.Weights[0] += 0.5
		other[5] = d
		stepckpttest.CheckForeign(t, ckpt, builder(buildSparse(t, other, vocab, 100), 7))
	})
}
