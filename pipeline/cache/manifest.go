package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/irflow/irflow/pipeline/digest"
	"github.com/irflow/irflow/pipeline/stage"
)

// ManifestSchema is the version of the manifest format.
const ManifestSchema = 1

// Manifest describes one committed artifact. It is written last, so an
// object with a manifest is complete.
type Manifest struct {
	Schema int    `json:"schema"`
	Key    string `json:"key"`
	// Address and Recipe say which recipe stage produced the artifact
	// (the same key may later be reused by other addresses).
	Address string `json:"address"`
	Recipe  string `json:"recipe"`
	Block   string `json:"block"`
	Method  string `json:"method"`
	Version int    `json:"version"`
	// Params holds every parameter (identity and meta); KeyParams the
	// canonical identity parameters the key was computed from.
	Params    map[string]any             `json:"params"`
	KeyParams map[string]json.RawMessage `json:"key_params"`
	// Components holds the versions of the components and formats the key
	// was computed from (plan.Parts.Components).
	Components map[string]string `json:"components,omitempty"`
	// Inputs holds the content digest of every input, by parameter name.
	Inputs map[string]string `json:"inputs"`
	Files  []File            `json:"files"`
	// Content is the digest of the whole artifact (digest.Combine of
	// Files); Outputs the digest of each declared output.
	Content  string             `json:"content"`
	Outputs  map[string]string  `json:"outputs"`
	Irflow   string             `json:"irflow"`
	Versions map[string]string  `json:"versions,omitempty"`
	Host     string             `json:"host"`
	PID      int                `json:"pid"`
	Start    time.Time          `json:"start"`
	End      time.Time          `json:"end"`
	Seconds  float64            `json:"duration_s"`
	Metrics  map[string]float64 `json:"metrics,omitempty"`
}

// File is one file of an artifact.
type File struct {
	Path   string `json:"path"` // slash-separated, relative to the object
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

func entries(files []File) []digest.Entry {
	out := make([]digest.Entry, len(files))
	for i, f := range files {
		out[i] = digest.Entry{Path: f.Path, SHA256: f.SHA256}
	}
	return out
}

// outputDigests computes the digest of each declared output from the file
// list, the same digest the output would have as an external input (see
// package digest), so no file is read twice.
func outputDigests(files []File, outputs []stage.Output) (map[string]string, error) {
	out := map[string]string{}
	for _, o := range outputs {
		p := strings.TrimSuffix(filepath.ToSlash(o.Path), "/")
		found := false
		for _, f := range files {
			if f.Path == p {
				out[o.Name], found = f.SHA256, true
				break
			}
		}
		if !found {
			under := digest.Under(entries(files), p)
			if len(under) == 0 && !strings.HasSuffix(o.Path, "/") {
				return nil, fmt.Errorf("the stage did not write its output %s (%s)", o.Name, o.Path)
			}
			out[o.Name] = digest.Combine(under)
		}
	}
	return out, nil
}

// ReadManifest reads the manifest of a committed object.
func (c *Cache) ReadManifest(key string) (*Manifest, error) {
	data, err := os.ReadFile(filepath.Join(c.ObjectDir(key), ManifestName))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest of %s: %w", key, err)
	}
	if m.Key != key || m.Schema != ManifestSchema {
		return nil, fmt.Errorf("manifest of %s: wrong key or schema", key)
	}
	return &m, nil
}

// Lookup returns the manifest of key if the object is committed and
// intact at a glance: the manifest parses and every listed file exists
// with its recorded size. Contents are checked only by Verify, which reads
// every byte.
func (c *Cache) Lookup(key string) (*Manifest, bool) {
	if !ValidKey(key) {
		return nil, false
	}
	m, err := c.ReadManifest(key)
	if err != nil {
		return nil, false
	}
	dir := c.ObjectDir(key)
	for _, f := range m.Files {
		info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Path)))
		if err != nil || info.Size() != f.Size {
			return nil, false
		}
	}
	return m, true
}

// Verify checks a committed object completely: the manifest parses, the
// files on disk are exactly those listed, and each has its recorded size
// and sha256.
func (c *Cache) Verify(key string) error {
	m, err := c.ReadManifest(key)
	if err != nil {
		return err
	}
	dir := c.ObjectDir(key)
	want := map[string]File{}
	for _, f := range m.Files {
		want[f.Path] = f
	}
	seen := map[string]bool{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == ManifestName {
			return nil
		}
		f, ok := want[rel]
		if !ok {
			return fmt.Errorf("%s: unexpected file %s", key, rel)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() != f.Size {
			return fmt.Errorf("%s: %s has %d bytes, manifest says %d", key, rel, info.Size(), f.Size)
		}
		sum, err := digest.File(p)
		if err != nil {
			return err
		}
		if sum != f.SHA256 {
			return fmt.Errorf("%s: %s has sha256 %s, manifest says %s", key, rel, sum, f.SHA256)
		}
		seen[rel] = true
		return nil
	})
	if err != nil {
		return err
	}
	var missing []string
	for p := range want {
		if !seen[p] {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("%s: missing files %s", key, strings.Join(missing, ", "))
	}
	if got := digest.Combine(entries(m.Files)); got != m.Content {
		return fmt.Errorf("%s: content digest %s, manifest says %s", key, got, m.Content)
	}
	return nil
}

// Quarantine moves a corrupt object out of objects/ (into tmp/, where gc
// removes it), so it is never used again and the next run rebuilds it.
func (c *Cache) Quarantine(key string) error {
	if !ValidKey(key) {
		return fmt.Errorf("cache: invalid key %q", key)
	}
	if err := c.ensure("tmp"); err != nil {
		return err
	}
	err := os.Rename(c.ObjectDir(key), filepath.Join(c.tmpRoot(), "corrupt-"+key+"."+randomSuffix()))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
