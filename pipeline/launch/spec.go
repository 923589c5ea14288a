// Package launch is the seam between the executor and where a stage runs.
// The executor plans, keys, locks and records; a Launcher carries one
// ready stage out: in this process (InProcess, the default), in a child
// process (Process) or on a cluster (pipeline/slurm). Every launcher ends
// in Execute, which runs the kind into a temporary directory and commits
// it, so an artifact does not depend on where its stage ran.
//
// A stage run outside the driver is described by a Spec file in the
// stage's work directory (cache.WorkDir) and run by `irflow exec-stage
// SPEC`; its log, progress and result are files next to the spec.
package launch

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/irflow/irflow/internal/durable"
	"github.com/irflow/irflow/pipeline/stage"
)

// SpecSchema is the version of the spec file's layout.
const SpecSchema = 1

// Files in a stage's work directory.
const (
	SpecFile     = "spec.json"
	LogFile      = "stage.log"
	ProgressFile = "progress.json"
	ResultFile   = "result.json"
)

// Spec is everything needed to run one planned stage without the recipe:
// its kind, its parameters with inputs resolved to absolute paths, and
// what its key was computed from (for the manifest).
type Spec struct {
	Schema  int    `json:"schema"`
	Key     string `json:"key"`
	Address string `json:"address"`
	Recipe  string `json:"recipe"`
	Block   string `json:"block"`
	Method  string `json:"method"`
	Version int    `json:"version"`
	// Params holds every parameter, inputs as absolute paths (Job.Params).
	Params     map[string]any             `json:"params"`
	KeyParams  map[string]json.RawMessage `json:"key_params"`
	Components map[string]string          `json:"components,omitempty"`
	// Inputs holds the content digest of every input, by parameter name.
	Inputs map[string]string `json:"inputs"`
	// CacheDir is the cache (absolute) the stage commits into.
	CacheDir string `json:"cache_dir"`
	// Threads is Job.Threads; 0 means the CPUs the process may use.
	Threads  int    `json:"threads,omitempty"`
	LogLevel string `json:"log_level,omitempty"`
	// Irflow is the driver's version; exec-stage refuses to run a spec
	// written by another version only when the kind's version differs.
	Irflow string `json:"irflow,omitempty"`
}

// Kind looks the spec's kind up in the registry and checks that this
// binary implements the version the key was computed for.
func (s *Spec) Kind() (*stage.Kind, error) {
	k, ok := stage.Lookup(s.Block, s.Method)
	if !ok {
		return nil, fmt.Errorf("%s: no stage kind %s/%s in this irflow", s.Address, s.Block, s.Method)
	}
	if k.Version != s.Version {
		return nil, fmt.Errorf("%s: kind %s/%s is version %d here, the spec was planned for version %d (another irflow build?)", s.Address, s.Block, s.Method, k.Version, s.Version)
	}
	return k, nil
}

// Write stores the spec as dir/spec.json, atomically.
func (s *Spec) Write(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, SpecFile)
	return path, WriteFileAtomic(path, append(data, '\n'))
}

// ReadSpec reads a spec file and gives its parameters back the Go types
// the kind declares (JSON turns []string into []any).
func ReadSpec(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if s.Schema != SpecSchema {
		return nil, fmt.Errorf("%s: spec schema %d, this irflow reads %d", path, s.Schema, SpecSchema)
	}
	if s.Key == "" || s.CacheDir == "" {
		return nil, fmt.Errorf("%s: spec has no key or no cache_dir", path)
	}
	k, err := s.Kind()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, p := range k.Params {
		v, ok := s.Params[p.Name]
		if !ok {
			continue
		}
		t, err := retype(p.Type, v)
		if err != nil {
			return nil, fmt.Errorf("%s: parameter %s: %w", path, p.Name, err)
		}
		s.Params[p.Name] = t
	}
	return &s, nil
}

// retype converts a JSON-decoded value to the type Job.Params promises.
func retype(t stage.Type, v any) (any, error) {
	switch t {
	case stage.StringList, stage.InputList:
		l, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("want a list, got %T", v)
		}
		out := make([]string, len(l))
		for i, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("element %d: want a string, got %T", i, e)
			}
			out[i] = s
		}
		return out, nil
	case stage.StringMap:
		m, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("want a map, got %T", v)
		}
		out := make(map[string]string, len(m))
		for k, e := range m {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("key %s: want a string, got %T", k, e)
			}
			out[k] = s
		}
		return out, nil
	}
	return v, nil
}

// WriteFileAtomic replaces path with data durably: a temporary file,
// fsynced, renamed over path. A reader (or a driver killed mid-write)
// sees the old content or the new, never part of it.
func WriteFileAtomic(path string, data []byte) error {
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	os.Remove(tmp)
	if err := durable.WriteFile(tmp, data); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	return durable.SyncDir(filepath.Dir(path))
}
