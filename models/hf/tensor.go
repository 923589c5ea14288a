package hf

import (
	"fmt"
	"sort"
	"strings"
)

// Tensor is one named array read from a weights file, converted to float32
// (floating sources) or int64 (integer sources). Data is row-major and
// contiguous.
type Tensor struct {
	Name  string
	Shape []int
	// DType is the dtype in the file ("F32", "F16", "BF16", "I64", …).
	DType string
	F32   []float32 // floating tensors
	I64   []int64   // integer tensors
}

// NumElements is the product of the shape (1 for a scalar).
func (t *Tensor) NumElements() int { return numElements(t.Shape) }

func numElements(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Weights is the set of tensors of one model directory, with the file
// each came from so errors can name it.
type Weights struct {
	tensors map[string]*Tensor
	source  map[string]string // tensor name → file
	// Files lists the weight files that were read, for messages.
	Files []string
}

// NewWeights makes an empty set.
func NewWeights() *Weights {
	return &Weights{tensors: map[string]*Tensor{}, source: map[string]string{}}
}

// Add puts a tensor read from file into the set.
func (w *Weights) Add(t *Tensor, file string) {
	w.tensors[t.Name] = t
	w.source[t.Name] = file
}

// Names lists the tensor names, sorted.
func (w *Weights) Names() []string {
	names := make([]string, 0, len(w.tensors))
	for n := range w.tensors {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Has reports whether a tensor is present.
func (w *Weights) Has(name string) bool { _, ok := w.tensors[name]; return ok }

// Lookup returns a tensor or nil.
func (w *Weights) Lookup(name string) *Tensor { return w.tensors[name] }

// Get returns a floating tensor and checks its shape; a negative dimension
// in want matches any size. The error names the tensor and the file.
func (w *Weights) Get(name string, want ...int) (*Tensor, error) {
	t, ok := w.tensors[name]
	if !ok {
		return nil, &MissingTensorError{Name: name, Files: w.Files}
	}
	if t.F32 == nil {
		return nil, fmt.Errorf("%s: tensor %q has dtype %s, want a floating-point tensor", w.source[name], name, t.DType)
	}
	if want != nil && !shapeMatches(t.Shape, want) {
		return nil, &ShapeError{File: w.source[name], Name: name, Got: t.Shape, Want: want}
	}
	return t, nil
}

// Source returns the file a tensor was read from.
func (w *Weights) Source(name string) string { return w.source[name] }

// Rename moves a tensor to a new name (used to strip or add a backbone
// prefix such as "bert.").
func (w *Weights) Rename(from, to string) {
	t, ok := w.tensors[from]
	if !ok {
		return
	}
	delete(w.tensors, from)
	src := w.source[from]
	delete(w.source, from)
	t.Name = to
	w.tensors[to] = t
	w.source[to] = src
}

func shapeMatches(got, want []int) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if want[i] >= 0 && got[i] != want[i] {
			return false
		}
	}
	return true
}

// MissingTensorError says a tensor the architecture needs is not in the
// weight files.
type MissingTensorError struct {
	Name  string
	Files []string
}

func (e *MissingTensorError) Error() string {
	return fmt.Sprintf("%s: missing tensor %q", strings.Join(e.Files, ", "), e.Name)
}

// ShapeError says a tensor has the wrong shape for the config.
type ShapeError struct {
	File, Name string
	Got, Want  []int
}

func (e *ShapeError) Error() string {
	return fmt.Sprintf("%s: tensor %q has shape %s, config.json implies %s", e.File, e.Name, fmtShape(e.Got), fmtShape(e.Want))
}

func fmtShape(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		if d < 0 {
			parts[i] = "*"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}
