package hf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Hub downloads files from a model hub that follows Hugging Face's URL
// layout (<endpoint>/<repo>/resolve/<revision>/<file>) into a local cache
// with huggingface_hub's layout, so irflow and Python share downloads:
//
//	<cache>/models--<org>--<name>/refs/<revision>        commit id
//	<cache>/models--<org>--<name>/snapshots/<commit>/<file>
type Hub struct {
	// Endpoint is the hub's base URL (HF_ENDPOINT, default
	// https://huggingface.co).
	Endpoint string
	// CacheDir is the cache root (HF_HUB_CACHE, else $HF_HOME/hub, else
	// ~/.cache/huggingface/hub).
	CacheDir string
	// Offline reads only the cache (HF_HUB_OFFLINE=1).
	Offline bool
	// Token is sent as a bearer token when set (HF_TOKEN).
	Token  string
	Client *http.Client
}

// DefaultHub configures a Hub from the environment variables that
// huggingface_hub reads.
func DefaultHub() *Hub {
	h := &Hub{
		Endpoint: strings.TrimRight(os.Getenv("HF_ENDPOINT"), "/"),
		CacheDir: os.Getenv("HF_HUB_CACHE"),
		Offline:  truthy(os.Getenv("HF_HUB_OFFLINE")),
		Token:    os.Getenv("HF_TOKEN"),
		// Fail fast where there is no network: a cached copy is then used.
		Client: &http.Client{Transport: &http.Transport{
			Proxy:                 http.ProxyFromEnvironment,
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 30 * time.Second,
		}},
	}
	if h.Endpoint == "" {
		h.Endpoint = "https://huggingface.co"
	}
	if h.CacheDir == "" {
		if home := os.Getenv("HF_HOME"); home != "" {
			h.CacheDir = filepath.Join(home, "hub")
		} else if xdg := os.Getenv("XDG_CACHE_HOME"); xdg != "" {
			h.CacheDir = filepath.Join(xdg, "huggingface", "hub")
		} else if home, err := os.UserHomeDir(); err == nil {
			h.CacheDir = filepath.Join(home, ".cache", "huggingface", "hub")
		}
	}
	return h
}

func truthy(s string) bool {
	switch strings.ToLower(s) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

// ErrNotFound says the hub has no such repository, revision or file.
var ErrNotFound = errors.New("not found on the hub")

// ErrNotCached says an offline hub lacks a file in its cache.
var ErrNotCached = errors.New("not in the cache")

var commitRe = regexp.MustCompile(`^[0-9a-f]{40}$`)

// RepoDir is the cache directory of a model repository.
func (h *Hub) RepoDir(repo string) string {
	return filepath.Join(h.CacheDir, "models--"+strings.ReplaceAll(repo, "/", "--"))
}

// repoPath joins slash path parts below the repository's cache directory,
// checking that the result stays there (see inside).
func (h *Hub) repoPath(repo string, parts ...string) (string, error) {
	root := h.RepoDir(repo)
	p := root
	for _, part := range parts {
		p = filepath.Join(p, filepath.FromSlash(part))
	}
	return inside(root, p)
}

// cachedCommit resolves a revision to a commit id through refs/, or returns
// the revision itself when it is a commit id. A ref that does not hold a
// commit id is ignored (the revision is then not cached).
func (h *Hub) cachedCommit(repo, revision string) string {
	if commitRe.MatchString(revision) {
		return revision
	}
	ref, err := h.repoPath(repo, "refs", revision)
	if err != nil {
		return ""
	}
	b, err := os.ReadFile(ref)
	if err != nil {
		return ""
	}
	if c := strings.TrimSpace(string(b)); commitRe.MatchString(c) {
		return c
	}
	return ""
}

// Download returns the local path of one file of repo at revision
// ("" = main), fetching it unless it is cached. A file cached at a pinned
// commit is never re-fetched; one cached for a branch is re-fetched when
// online (the branch may have moved) and used as is when offline or when
// the hub cannot be reached.
func (h *Hub) Download(ctx context.Context, repo, revision, file string) (string, error) {
	if revision == "" {
		revision = "main"
	}
	if err := errors.Join(checkRepo(repo), checkRevision(revision), checkFile(file)); err != nil {
		return "", err
	}
	var cached string
	knownMissing := false // the cache recorded that the repository lacks file
	if commit := h.cachedCommit(repo, revision); commit != "" {
		p, err := h.repoPath(repo, "snapshots", commit, file)
		if err != nil {
			return "", fmt.Errorf("%s@%s: %s: %w", repo, revision, file, err)
		}
		if regularFile(p) {
			cached = p
		} else if exists(filepath.Join(h.RepoDir(repo), ".no_exist", commit, filepath.FromSlash(file))) {
			knownMissing = true
			if h.Offline {
				return "", fmt.Errorf("%s@%s: %s: %w (cached answer)", repo, revision, file, ErrNotFound)
			}
		}
		if cached != "" && (commit == revision || h.Offline) {
			return cached, nil
		}
	}
	if h.Offline {
		return "", fmt.Errorf("%s@%s: %s is %w %s and the hub is offline (HF_HUB_OFFLINE)", repo, revision, file, ErrNotCached, h.CacheDir)
	}
	p, err := h.fetch(ctx, repo, revision, file)
	if err != nil && cached != "" && !errors.Is(err, ErrNotFound) {
		return cached, nil // hub unreachable: the cached copy is the best we have
	}
	if err != nil && knownMissing && !errors.Is(err, ErrNotFound) {
		// Hub unreachable: the cached answer "no such file" is the best we have.
		return "", fmt.Errorf("%s@%s: %s: %w (cached answer; the hub could not be reached: %v)", repo, revision, file, ErrNotFound, err)
	}
	return p, err
}

func (h *Hub) fetch(ctx context.Context, repo, revision, file string) (string, error) {
	u := fmt.Sprintf("%s/%s/resolve/%s/%s", h.Endpoint, repo, url.PathEscape(revision), escapePath(file))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	if h.Token != "" {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	client := h.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%s@%s: %s: %w", repo, revision, file, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return "", fmt.Errorf("%s@%s: %s: %w (%s)", repo, revision, file, ErrNotFound, u)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return "", fmt.Errorf("%s@%s: %s: access denied (HTTP %d; gated or private repository? set HF_TOKEN)", repo, revision, file, resp.StatusCode)
	case resp.StatusCode != http.StatusOK:
		return "", fmt.Errorf("%s@%s: %s: HTTP %s from %s", repo, revision, file, resp.Status, u)
	}
	commit := resp.Header.Get("X-Repo-Commit")
	if commit == "" {
		if commitRe.MatchString(revision) {
			commit = revision
		} else {
			return "", fmt.Errorf("%s@%s: %s: the hub did not say which commit it served (no X-Repo-Commit header)", repo, revision, file)
		}
	}
	if !commitRe.MatchString(commit) {
		return "", fmt.Errorf("%s@%s: %s: invalid commit id %q from the hub", repo, revision, file, commit)
	}
	dst, err := h.repoPath(repo, "snapshots", commit, file)
	if err != nil {
		return "", fmt.Errorf("%s@%s: %s: %w", repo, revision, file, err)
	}
	if regularFile(dst) { // the branch still points at a commit we have: skip the body
		h.writeRef(repo, revision, commit)
		return dst, nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".download-*")
	if err != nil {
		return "", err
	}
	n, err := io.Copy(tmp, resp.Body)
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("short download: %d of %d bytes", n, resp.ContentLength)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), dst)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", fmt.Errorf("%s@%s: %s: %w", repo, revision, file, err)
	}
	h.writeRef(repo, revision, commit)
	return dst, nil
}

// writeRef records which commit a branch or tag resolved to, best effort
// (a failure only costs a later re-check). The ref is replaced by a rename,
// never written through: a link there is replaced, not followed.
func (h *Hub) writeRef(repo, revision, commit string) {
	if revision == commit {
		return
	}
	ref, err := h.repoPath(repo, "refs", revision)
	if err != nil {
		return
	}
	if err := os.MkdirAll(filepath.Dir(ref), 0o755); err != nil {
		return
	}
	tmp, err := os.CreateTemp(filepath.Dir(ref), ".ref-*")
	if err != nil {
		return
	}
	_, err = tmp.WriteString(commit)
	if err = errors.Join(err, tmp.Close()); err == nil {
		err = os.Rename(tmp.Name(), ref)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
}

func escapePath(p string) string {
	parts := strings.Split(p, "/")
	for i, s := range parts {
		parts[i] = url.PathEscape(s)
	}
	return strings.Join(parts, "/")
}

// modelFiles are fetched for a model reference: config first, then any of
// the tokenizer and sentence-transformers files that exist, then the first
// weight format found.
var (
	optionalModelFiles = []string{
		"tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json",
		"modules.json", "sentence_bert_config.json", "config_sentence_transformers.json",
		"1_Pooling/config.json",
	}
	weightFiles = []string{SafetensorsFile, PytorchBinFile}
)

// Snapshot fetches what irflow needs of a model repository (config,
// tokenizer, sentence-transformers module files and one weights file) and
// returns the snapshot directory that holds them.
func (h *Hub) Snapshot(ctx context.Context, repo, revision string) (string, error) {
	cfg, err := h.Download(ctx, repo, revision, ConfigFile)
	if err != nil {
		return "", err
	}
	dir := filepath.Dir(cfg)
	for _, f := range optionalModelFiles {
		if _, err := h.Download(ctx, repo, revision, f); err != nil && !errors.Is(err, ErrNotFound) && !h.Offline {
			return "", err
		}
	}
	var lastErr error
	for _, f := range weightFiles {
		if _, err := h.Download(ctx, repo, revision, f); err == nil {
			return dir, nil
		} else {
			lastErr = err
		}
	}
	return "", fmt.Errorf("%s@%s: no weights (%s): %w", repo, revision, strings.Join(weightFiles, ", "), lastErr)
}

// ModelScheme prefixes a hub reference in recipes and on the command line:
// "hf:org/name" or "hf:org/name@revision".
const ModelScheme = "hf:"

// ResolveModel turns a model reference into a local directory: a path is
// returned as is (it must hold config.json); "hf:org/name[@revision]" is
// fetched through the hub cache, after checking the name and revision
// against the hub's rules (a recipe's reference is untrusted).
func (h *Hub) ResolveModel(ctx context.Context, ref string) (string, error) {
	if repo, rev, ok, err := ParseModelRef(ref); ok {
		if err != nil {
			return "", err
		}
		return h.Snapshot(ctx, repo, rev)
	}
	if !exists(filepath.Join(ref, ConfigFile)) {
		return "", fmt.Errorf("%s: not a model directory (no %s); use a directory or %sorg/name", ref, ConfigFile, ModelScheme)
	}
	return ref, nil
}
