// Package inference runs a ranking model (backbone + head + tokenizer) over
// texts with bounded memory: texts are tokenized, sorted by length and cut
// into batches whose padded size stays under a token budget, each batch
// runs without autograd on the torch runtime, and results come back in
// input order. It is the library API behind re_rank and `irflow score`:
//
//	m, err := inference.Load(ctx, dir, inference.Options{Threads: 2})
//	defer m.Close()
//	scores, err := m.Score(ctx, query, docs)
//	q, err := m.EncodeQueries(ctx, queries)
//	d, err := m.EncodeDocs(ctx, docs)
package inference

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/backbone"
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/textinput"
	"github.com/irflow/irflow/models/tokenizer"
)

// Options configure loading and batching.
type Options struct {
	// Head overrides the head stored with the model: a preset name
	// (heads.Architectures). Empty uses config.json / modules.json.
	Head string
	// HeadOptions, when non-nil, replaces the head options entirely.
	HeadOptions *heads.Options
	// HeadOverrides sets single head options by name on top of the
	// resolved head (heads.Options.Override), e.g. {"doc_length": "256"}.
	HeadOverrides map[string]string
	// InitHead creates missing head weights (a linear projection) with
	// PyTorch's default initialisation seeded by Seed, for a preset put on
	// a plain backbone. Without it, missing head weights are an error.
	InitHead bool
	Seed     int64
	// Threads is the number of CPU threads to use (0: libtorch's default,
	// one worker). Workers is how many batches run at once; 0 means one
	// worker per thread, each with one libtorch thread, which measured
	// about twice as fast as one worker with several intra-op threads for
	// BERT-sized models on a shared 2-core machine (docs/models.md).
	Threads, Workers int
	// BatchSize caps the texts (or pairs) per batch (default 8: small
	// batches keep activations in cache and measured faster on CPU than
	// 32); MaxBatchTokens caps batch × padded length (default 16384).
	BatchSize, MaxBatchTokens int
	// Device is where the model runs (default CPU).
	Device torch.Device
	// DType is the type weights and activations are computed in:
	// "float32" (default, the parity-tested path) or "bfloat16" (for GPUs:
	// half the memory traffic; outputs still come back as float32).
	DType string
	// Runtime, when set, is used instead of opening one; Close leaves it open.
	Runtime *torch.Runtime
	// Progress, when set, is called after every finished batch with the
	// number of texts (or pairs) it held, so callers can show progress on
	// long encodings. It may be called from several goroutines at once.
	Progress func(n int)
}

// Model is a loaded ranking model.
type Model struct {
	Dir    string
	Config *hf.Config
	Head   heads.Options

	tok     *tokenizer.Tokenizer
	rt      *torch.Runtime
	ownRT   bool
	enc     *backbone.Encoder
	head    *heads.Head
	weights *hf.Weights // Go copies, kept for Save
	opts    Options

	inputs *textinput.Encoder
}

// Load reads a model directory: config.json, weights, tokenizer and head.
func Load(ctx context.Context, dir string, o Options) (*Model, error) {
	dt, err := ParseDType(o.DType)
	if err != nil {
		return nil, err
	}
	cfg, err := hf.LoadConfig(dir)
	if err != nil {
		return nil, err
	}
	if err := backbone.CheckSupported(cfg); err != nil {
		return nil, err
	}
	head, err := resolveHead(dir, cfg, o)
	if err != nil {
		return nil, err
	}
	if len(o.HeadOverrides) > 0 {
		if err := head.Override(o.HeadOverrides); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		if err := head.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
	}
	// The head picks the network on T5: encoder alone or encoder–decoder.
	if err := heads.ForBackbone(head, cfg); err != nil {
		return nil, err
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, err
	}
	w, err := hf.LoadWeights(dir)
	if err != nil {
		return nil, err
	}
	if o.InitHead {
		if err := heads.InitMissing(head, cfg, w, o.Seed); err != nil {
			return nil, err
		}
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 8
	}
	if o.MaxBatchTokens <= 0 {
		o.MaxBatchTokens = 16384
	}
	m := &Model{Dir: dir, Config: cfg, Head: head, tok: tok, weights: w, opts: o}
	if m.inputs, err = textinput.New(dir, tok, head, cfg); err != nil {
		return nil, err
	}
	m.rt = o.Runtime
	if m.rt == nil {
		if m.rt, err = torch.Open(runtimeOptions(o)); err != nil {
			return nil, err
		}
		m.ownRT = true
	}
	if m.enc, err = backbone.Load(ctx, m.rt, cfg, w); err != nil {
		m.Close()
		return nil, err
	}
	if m.head, err = heads.Load(ctx, m.rt, head, cfg, w); err != nil {
		m.Close()
		return nil, err
	}
	if dt != torch.Float32 {
		if err := m.enc.Cast(ctx, m.rt, dt); err != nil {
			m.Close()
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		if err := m.head.Cast(ctx, m.rt, dt); err != nil {
			m.Close()
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
	}
	return m, nil
}

// ParseDType reads Options.DType ("" is float32).
func ParseDType(name string) (torch.DType, error) {
	if name == "" {
		return torch.Float32, nil
	}
	dt, err := torch.ParseDType(name)
	if err == nil {
		err = backbone.CheckInferenceDType(dt)
	}
	if err != nil {
		return dt, fmt.Errorf("dtype %q: models run in \"float32\" or \"bfloat16\"", name)
	}
	return dt, nil
}

// runtimeOptions splits Threads into workers × intra-op threads.
func runtimeOptions(o Options) torch.Options {
	ro := torch.Options{Device: o.Device, Workers: o.Workers, Threads: o.Threads}
	switch {
	case o.Threads > 0 && o.Workers <= 0:
		ro.Workers, ro.Threads = o.Threads, 1
	case o.Threads > 0 && o.Workers > 0:
		ro.Threads = max(1, o.Threads/o.Workers)
	}
	return ro
}

func resolveHead(dir string, cfg *hf.Config, o Options) (heads.Options, error) {
	if o.HeadOptions != nil {
		h := *o.HeadOptions
		return h, h.Validate()
	}
	h, err := heads.Resolve(dir, cfg, o.Head)
	if err != nil {
		return h, err
	}
	return h, h.Validate()
}

// Close frees the weights (and the runtime if Load opened it).
func (m *Model) Close() error {
	if m.enc != nil {
		m.enc.Free()
	}
	if m.head != nil {
		m.head.Free()
	}
	if m.ownRT && m.rt != nil {
		return m.rt.Close()
	}
	return nil
}

// Tokenizer is the model's tokenizer.
func (m *Model) Tokenizer() *tokenizer.Tokenizer { return m.tok }

// Runtime is the torch runtime the model runs on.
func (m *Model) Runtime() *torch.Runtime { return m.rt }

// tokenFiles are copied by Save next to the weights.
var tokenFiles = []string{"tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"}

// Save writes the model as a Hugging Face directory that transformers and
// Lightning IR load: config.json (backbone fields plus Lightning IR head
// fields), model.safetensors (backbone at the top level, head weights under
// Lightning IR's names) and the tokenizer files.
func (m *Model) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	raw := map[string]any{}
	for k, v := range m.Config.Raw {
		raw[k] = v
	}
	delete(raw, "architectures")
	for k, v := range m.Head.LightningIRConfig(m.Config.Backbone()) {
		raw[k] = v
	}
	if err := hf.WriteConfig(dir, raw); err != nil {
		return err
	}
	tensors := heads.LightningIRTensors(m.Head, m.Config, m.weights)
	if err := hf.WriteSafetensors(filepath.Join(dir, hf.SafetensorsFile), tensors, map[string]string{"format": "pt"}); err != nil {
		return err
	}
	for _, f := range tokenFiles {
		b, err := os.ReadFile(filepath.Join(m.Dir, f))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// SetMaxBatchTokens changes the cap on batch × padded length for later
// calls (n ≤ 0 restores the default), e.g. once the head shows that its
// per-token output is vocabulary-sized.
func (m *Model) SetMaxBatchTokens(n int) {
	if n <= 0 {
		n = 16384
	}
	m.opts.MaxBatchTokens = n
}
