// Package digest defines the content digests that cache keys are built
// from: a file's digest is the sha256 of its bytes, a directory's digest is
// the sha256 of its sorted list of (relative path, file digest). Keys depend
// on content only, never on where a file lives, so a recipe means the same
// on every machine.
package digest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Entry is one regular file inside a directory input or an artifact.
type Entry struct {
	// Path is slash-separated and relative to the directory.
	Path string
	// SHA256 is the hex digest of the file's content.
	SHA256 string
}

// dirDomain separates directory digests from file digests, so a file whose
// bytes happen to equal a directory listing never shares its digest.
const dirDomain = "irflow-dir-v1\n"

// Combine returns the digest of a directory from its files. Order of
// entries does not matter; paths must be unique.
func Combine(entries []Entry) string {
	sorted := append([]Entry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	h := sha256.New()
	io.WriteString(h, dirDomain)
	for _, e := range sorted {
		io.WriteString(h, e.Path)
		h.Write([]byte{0})
		io.WriteString(h, e.SHA256)
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Under returns the entries below dir (slash path, no trailing slash),
// with paths made relative to it. It is how the digest of one output
// directory of an artifact is computed from the artifact's file list.
func Under(entries []Entry, dir string) []Entry {
	prefix := strings.TrimSuffix(dir, "/") + "/"
	var out []Entry
	for _, e := range entries {
		if strings.HasPrefix(e.Path, prefix) {
			out = append(out, Entry{Path: strings.TrimPrefix(e.Path, prefix), SHA256: e.SHA256})
		}
	}
	return out
}

// File returns the hex sha256 of a file's content.
func File(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// FileFunc hashes one regular file; Walk takes it so callers can memoize.
type FileFunc func(path string) (string, error)

// Walk lists the regular files below dir (following symlinks to files)
// and hashes each with hash.
func Walk(dir string, hash FileFunc) ([]Entry, error) {
	var entries []Entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		info, err := os.Stat(p) // follows symlinks
		if err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		sum, err := hash(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		entries = append(entries, Entry{Path: filepath.ToSlash(rel), SHA256: sum})
		return nil
	})
	return entries, err
}

// Path returns the digest of a file or directory.
func Path(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !info.IsDir() {
		return File(path)
	}
	entries, err := Walk(path, File)
	if err != nil {
		return "", err
	}
	return Combine(entries), nil
}

// Valid reports whether s looks like a hex sha256 digest.
func Valid(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}
