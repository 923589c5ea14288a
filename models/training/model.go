// Package training is the trainable form of irflow's ranking models: the
// backbone (models/backbone) and head (models/heads) that inference runs,
// with every weight a leaf tensor that requires grad, dropout where
// transformers applies it, seeded per step, the SPLADE decoder tied to the
// word embeddings as in PyTorch, and state files for checkpoints. Forward
// tokenises a batch of queries with their documents as inference does and
// returns differentiable scores for the losses (train/loss):
//
//	m, err := training.Load(ctx, dir, training.Options{Seed: 42})
//	defer m.Close()
//	m.SetTraining(true)
//	err = m.Runtime().Do(ctx, func(s *torch.Scope) error {
//		m.SeedStep(step)
//		out, err := m.Forward(s, training.Batch{Queries: qs, Docs: docs})
//		... loss from out.Scores; s.Backward(loss); optimiser step
//	})
//	err = m.Save(outDir) // a Lightning IR model directory inference.Load reads
package training

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/models/backbone"
	"github.com/irflow/irflow/models/heads"
	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/models/textinput"
	"github.com/irflow/irflow/models/tokenizer"
	"github.com/irflow/irflow/train/optim/statefile"
)

// Options configure Load.
type Options struct {
	// Head sets head options by name on top of the resolved head
	// (heads.Options.Override: "doc_length", "projection", "similarity", …).
	Head map[string]string
	// HeadPreset puts a head preset (heads.Architectures) on the model;
	// "" uses the head stored in the model directory.
	HeadPreset string
	// Threads is libtorch's intra-op thread count (0: its default).
	Threads int
	Device  torch.Device
	// Seed initialises head weights the checkpoint lacks
	// (heads.InitMissing) and seeds dropout (SeedStep).
	Seed int64
	// Dropout, when set, replaces the config's hidden and attention
	// dropout probabilities; 0 turns dropout off.
	Dropout *float64
}

// Param is one trainable tensor. Name is its Hugging Face name as Save
// writes it (the backbone at the top level, the head under Lightning IR's
// names); the fused query/key/value projections of a layer are one tensor
// named by their three names joined with "," (query,key,value order,
// concatenated along dim 0), which Save splits again.
type Param struct {
	Name  string
	T     *torch.Tensor
	Decay bool // false for biases and LayerNorm weights
}

// Model is a trainable ranking model.
type Model struct {
	Dir    string
	Config *hf.Config
	Head   heads.Options

	tok    *tokenizer.Tokenizer
	rt     *torch.Runtime
	enc    *backbone.Encoder
	head   *heads.Head
	params []Param
	parts  [][]string // per param: the HF names of its parts

	seed                 int64
	dropHidden, dropAttn float64
	inputs               *textinput.Encoder
}

// Load reads a Hugging Face model directory (as inference.Load does),
// copies its weights into trainable tensors and opens a runtime for them.
func Load(ctx context.Context, dir string, o Options) (*Model, error) {
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
	if err := head.Trainable(); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	tok, err := tokenizer.Load(dir)
	if err != nil {
		return nil, err
	}
	w, err := hf.LoadWeights(dir)
	if err != nil {
		return nil, err
	}
	if err := heads.InitMissing(head, cfg, w, o.Seed); err != nil {
		return nil, err
	}
	m := &Model{Dir: dir, Config: cfg, Head: head, tok: tok, seed: o.Seed}
	m.dropHidden, m.dropAttn = backbone.DropoutProbs(cfg)
	if o.Dropout != nil {
		if *o.Dropout < 0 || *o.Dropout >= 1 {
			return nil, fmt.Errorf("dropout %v outside [0, 1)", *o.Dropout)
		}
		m.dropHidden, m.dropAttn = *o.Dropout, *o.Dropout
	}
	if m.inputs, err = textinput.New(dir, tok, head, cfg); err != nil {
		return nil, err
	}
	if m.rt, err = torch.Open(torch.Options{Device: o.Device, Threads: o.Threads, Seed: o.Seed, SetSeed: true}); err != nil {
		return nil, err
	}
	if m.enc, err = backbone.Load(ctx, m.rt, cfg, w); err != nil {
		m.Close()
		return nil, err
	}
	if m.head, err = heads.Load(ctx, m.rt, head, cfg, w); err != nil {
		m.Close()
		return nil, err
	}
	if head.Projection == "mlm" && cfg.Bool("tie_word_embeddings", true) {
		if err := m.head.TieDecoder(m.enc.WordEmbeddings()); err != nil {
			m.Close()
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
	}
	for _, p := range append(m.enc.Params(), m.head.Params()...) {
		m.params = append(m.params, Param{Name: strings.Join(p.Names, ","), T: p.T, Decay: !p.NoDecay})
		m.parts = append(m.parts, p.Names)
	}
	err = m.rt.Do(ctx, func(s *torch.Scope) error {
		for _, p := range m.params {
			if err := s.SetRequiresGrad(p.T, true); err != nil {
				return fmt.Errorf("%s: %w", p.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		m.Close()
		return nil, err
	}
	return m, nil
}

// resolveHead picks the head as inference does: a preset, else the one
// config.json / modules.json describes; then the overrides.
func resolveHead(dir string, cfg *hf.Config, o Options) (heads.Options, error) {
	h, err := heads.Resolve(dir, cfg, o.HeadPreset)
	if err != nil {
		return h, err
	}
	if len(o.Head) > 0 {
		if err := h.Override(o.Head); err != nil {
			return h, fmt.Errorf("%s: %w", dir, err)
		}
	}
	if err := h.Validate(); err != nil {
		return h, fmt.Errorf("%s: %w", dir, err)
	}
	return h, nil
}

// Params lists every trainable tensor (requires_grad on). The list and the
// tensors stay the same for the model's life; the values change in place.
func (m *Model) Params() []Param { return append([]Param(nil), m.params...) }

// Runtime is the torch runtime that owns the weights: run Forward, the
// loss and the optimiser inside its Do.
func (m *Model) Runtime() *torch.Runtime { return m.rt }

// Tokenizer is the model's tokenizer (with marker tokens when the head
// adds them).
func (m *Model) Tokenizer() *tokenizer.Tokenizer { return m.tok }

// SetTraining turns dropout on (the config's or Options.Dropout's
// probabilities) or off (eval mode, as after Load).
func (m *Model) SetTraining(on bool) { m.enc.SetTraining(on, m.dropHidden, m.dropAttn) }

// SeedStep reseeds libtorch's global generator from the model's seed and
// the step, so the dropout masks of a step are the same whether the run
// went through it at once or resumed just before it. It affects the whole
// process (libtorch has one generator per device type).
func (m *Model) SeedStep(step int64) { m.rt.ManualSeed(mix(m.seed, step)) }

// mix is splitmix64 over seed and step.
func mix(seed, step int64) int64 {
	z := uint64(seed)*0x9e3779b97f4a7c15 + uint64(step) + 0x632be59bd9b4e019
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return int64((z ^ (z >> 31)) & (1<<63 - 1))
}

// Close frees the weights and stops the runtime.
func (m *Model) Close() error {
	if m.enc != nil {
		m.enc.Free()
	}
	if m.head != nil {
		m.head.Free()
	}
	if m.rt != nil {
		return m.rt.Close()
	}
	return nil
}

// values copies every parameter's values out, split into its named parts.
func (m *Model) values() ([]*hf.Tensor, error) {
	var out []*hf.Tensor
	err := m.rt.Do(context.Background(), func(s *torch.Scope) error {
		for i, p := range m.params {
			v, err := s.Float32s(p.T)
			if err != nil {
				return fmt.Errorf("%s: %w", p.Name, err)
			}
			shape := ints(p.T.Shape())
			names := m.parts[i]
			rows := shape[0] / len(names)
			per := len(v) / len(names)
			for k, n := range names {
				sh := append([]int{}, shape...)
				sh[0] = rows
				out = append(out, &hf.Tensor{Name: n, Shape: sh, DType: "F32", F32: v[k*per : (k+1)*per]})
			}
		}
		return nil
	})
	return out, err
}

// SaveState writes the exact fp32 values of every parameter, under the
// Param names, to path (safetensors with a content digest) for a
// checkpoint. It runs its own Runtime.Do: call it outside one.
func (m *Model) SaveState(path string) error {
	var tensors []*hf.Tensor
	err := m.rt.Do(context.Background(), func(s *torch.Scope) error {
		for _, p := range m.params {
			v, err := s.Float32s(p.T)
			if err != nil {
				return fmt.Errorf("%s: %w", p.Name, err)
			}
			tensors = append(tensors, &hf.Tensor{Name: p.Name, Shape: ints(p.T.Shape()), DType: "F32", F32: v})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return statefile.Write(path, tensors, map[string]string{"kind": "irflow.model"})
}

// LoadState copies the values SaveState wrote into the parameters. A
// corrupt file, or one whose tensors or shapes differ from this model's,
// is refused before any parameter changes.
func (m *Model) LoadState(path string) error {
	tensors, meta, err := statefile.Read(path)
	if err != nil {
		return err
	}
	if meta["kind"] != "irflow.model" {
		return fmt.Errorf("%s: not a model state (kind %q)", path, meta["kind"])
	}
	if len(tensors) != len(m.params) {
		return fmt.Errorf("%s: holds %d tensors, the model has %d parameters", path, len(tensors), len(m.params))
	}
	for _, p := range m.params {
		t, ok := tensors[p.Name]
		if !ok {
			return fmt.Errorf("%s: no tensor %s", path, p.Name)
		}
		if got, want := t.Shape, ints(p.T.Shape()); fmt.Sprint(got) != fmt.Sprint(want) || t.F32 == nil {
			return fmt.Errorf("%s: tensor %s has shape %v (%s), the model's is %v (F32)", path, p.Name, got, t.DType, want)
		}
	}
	return m.rt.Do(context.Background(), func(s *torch.Scope) error {
		return s.NoGrad(func(s *torch.Scope) error {
			for _, p := range m.params {
				src, err := s.FromFloat32(tensors[p.Name].F32, p.T.Shape()...)
				if err != nil {
					return err
				}
				if err := s.CopyInPlace(p.T, src); err != nil {
					return fmt.Errorf("%s: %w", p.Name, err)
				}
				s.Free(src)
			}
			return nil
		})
	})
}

// tokenFiles are copied by Save next to the weights.
var tokenFiles = []string{"tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json"}

// Save writes the model as a Hugging Face directory that transformers,
// Lightning IR and inference.Load read: config.json (the backbone's fields
// plus Lightning IR's head fields), model.safetensors (every parameter
// under its HF name, fused q/k/v split again; a tied MLM decoder is written
// once, as the word embeddings, as transformers does) and the tokenizer
// files. It runs its own Runtime.Do: call it outside one.
func (m *Model) Save(dir string) error {
	tensors, err := m.values()
	if err != nil {
		return err
	}
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
	if m.head.Tied() {
		raw["tie_word_embeddings"] = true
	}
	if err := hf.WriteConfig(dir, raw); err != nil {
		return err
	}
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

func ints(s []int64) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = int(v)
	}
	return out
}
