package hf

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Weight file names in a model directory, in the order they are preferred.
const (
	SafetensorsFile      = "model.safetensors"
	SafetensorsIndexFile = "model.safetensors.index.json"
	PytorchBinFile       = "pytorch_model.bin"
	PytorchBinIndexFile  = "pytorch_model.bin.index.json"
)

// LoadWeights reads the weights of a model directory: model.safetensors,
// sharded safetensors (model.safetensors.index.json), pytorch_model.bin or
// sharded .bin, preferring safetensors as transformers does.
func LoadWeights(dir string) (*Weights, error) {
	var files []string
	var read func(string) ([]*Tensor, error)
	switch {
	case exists(filepath.Join(dir, SafetensorsFile)):
		files, read = []string{SafetensorsFile}, ReadSafetensors
	case exists(filepath.Join(dir, SafetensorsIndexFile)):
		shards, err := readShardIndex(filepath.Join(dir, SafetensorsIndexFile))
		if err != nil {
			return nil, err
		}
		files, read = shards, ReadSafetensors
	case exists(filepath.Join(dir, PytorchBinFile)):
		files, read = []string{PytorchBinFile}, ReadPytorchBin
	case exists(filepath.Join(dir, PytorchBinIndexFile)):
		shards, err := readShardIndex(filepath.Join(dir, PytorchBinIndexFile))
		if err != nil {
			return nil, err
		}
		files, read = shards, ReadPytorchBin
	default:
		return nil, fmt.Errorf("%s: no weights found (want %s or %s)", dir, SafetensorsFile, PytorchBinFile)
	}
	w := NewWeights()
	for _, f := range files {
		p := filepath.Join(dir, f)
		ts, err := read(p)
		if err != nil {
			return nil, err
		}
		w.Files = append(w.Files, p)
		for _, t := range ts {
			w.Add(t, p)
		}
	}
	return w, nil
}

func readShardIndex(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var idx struct {
		WeightMap map[string]string `json:"weight_map"`
	}
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	seen := map[string]bool{}
	var files []string
	for _, f := range idx.WeightMap {
		if !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: empty weight_map", path)
	}
	sort.Strings(files)
	return files, nil
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
