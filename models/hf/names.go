package hf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Recipes are shared, so a repository, revision or file name in one is
// untrusted: it is joined into cache paths and URLs. These checks follow
// the hub's own rules (huggingface_hub's validate_repo_id, git's
// check-ref-format for branches and tags, relative slash paths for files),
// which also guarantee that a name never leaves its directory.

// repoPart is one part of a repository id: word characters, '.' and '-',
// starting and ending with a word character.
var repoPart = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$`)

// checkRepo accepts "name" or "org/name" as the hub does: at most 96
// characters, no "--" (the cache's separator) and no "..".
func checkRepo(repo string) error {
	bad := func(why string) error {
		return fmt.Errorf("invalid model repository %q: %s", repo, why)
	}
	parts := strings.Split(repo, "/")
	switch {
	case repo == "":
		return bad("empty (want org/name)")
	case len(parts) > 2:
		return bad("want org/name")
	case len(repo) > 96:
		return bad("longer than 96 characters")
	case strings.Contains(repo, "--") || strings.Contains(repo, ".."):
		return bad(`"--" and ".." are not allowed`)
	}
	for _, p := range parts {
		if !repoPart.MatchString(p) {
			return bad("names are letters, digits, '_', '.' and '-', starting and ending with a letter, digit or '_'")
		}
	}
	return nil
}

// checkRevision accepts a commit id or a branch or tag name by git's
// check-ref-format rules (refs/pr/1 included), which exclude "..",
// absolute and empty components, so refs/<revision> stays inside refs/.
func checkRevision(rev string) error {
	bad := func(why string) error {
		return fmt.Errorf("invalid revision %q: %s", rev, why)
	}
	switch {
	case rev == "":
		return bad("empty")
	case len(rev) > 255:
		return bad("longer than 255 characters")
	case strings.Contains(rev, ".."):
		return bad(`".." is not allowed`)
	case strings.Contains(rev, "@{") || rev == "@":
		return bad(`"@{" is not allowed`)
	case strings.HasPrefix(rev, "/") || strings.HasSuffix(rev, "/") || strings.Contains(rev, "//"):
		return bad("empty path component")
	case strings.HasSuffix(rev, "."):
		return bad(`ends with "."`)
	}
	for _, r := range rev {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return bad(fmt.Sprintf("character %q is not allowed", r))
		}
	}
	for _, c := range strings.Split(rev, "/") {
		if strings.HasPrefix(c, ".") || strings.HasSuffix(c, ".lock") {
			return bad(`a component starts with "." or ends with ".lock"`)
		}
	}
	return nil
}

// checkFile accepts a relative slash path of a file in a repository: no
// empty, "." or ".." components, no backslashes or control characters.
func checkFile(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("invalid file name %q: %s", name, why)
	}
	if name == "" || len(name) > 1024 {
		return bad("empty or too long")
	}
	if strings.HasPrefix(name, "/") {
		return bad("absolute")
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f || r == '\\' {
			return bad(fmt.Sprintf("character %q is not allowed", r))
		}
	}
	for _, c := range strings.Split(name, "/") {
		if c == "" || c == "." || c == ".." {
			return bad(`empty, "." or ".." path component`)
		}
	}
	return nil
}

// ParseModelRef splits "hf:org/name[@revision]" and checks both parts; ok
// is false when ref is not an hf: reference (a path).
func ParseModelRef(ref string) (repo, revision string, ok bool, err error) {
	rest, ok := strings.CutPrefix(ref, ModelScheme)
	if !ok {
		return "", "", false, nil
	}
	repo, revision, hasRev := strings.Cut(rest, "@")
	if err := checkRepo(repo); err != nil {
		return "", "", true, err
	}
	if hasRev {
		if err := checkRevision(revision); err != nil {
			return "", "", true, err
		}
	}
	return repo, revision, true, nil
}

// errLinkedDir refuses a symbolic link to a directory inside a repository's
// cache directory.
var errLinkedDir = errors.New("is a symbolic link to a directory; irflow neither reads nor writes through those inside the cache")

// inside returns path after checking that it lies below root and that no
// directory between them is a symbolic link.
//
// The rule for links: irflow never creates symbolic links and never writes
// through one, but a file in a snapshot may be a link to a regular file
// anywhere. That is how huggingface_hub lays out its cache (snapshots/*
// link into blobs/) and how scripts/seed-hf-cache.sh makes an installed
// model resolvable offline, and whoever can place links in the cache can
// replace its files anyway. A linked directory, though, would make a
// download land outside the cache, so it is refused; a linked file is
// replaced (renamed over), not written through.
func inside(root, path string) (string, error) {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("%s is outside %s", path, root)
	}
	dir := root
	parts := strings.Split(filepath.Dir(rel), string(filepath.Separator))
	for _, c := range parts {
		if c == "." {
			continue
		}
		dir = filepath.Join(dir, c)
		info, err := os.Lstat(dir)
		if err != nil {
			break // not there yet: created as a real directory
		}
		if info.Mode()&os.ModeSymlink != 0 {
			return "", fmt.Errorf("%s %w", dir, errLinkedDir)
		}
	}
	return path, nil
}

// regularFile reports whether p is (or links to) a regular file.
func regularFile(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.Mode().IsRegular()
}
