package hf

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestNamesFollowTheHubsRules(t *testing.T) {
	for _, tc := range []struct {
		check func(string) error
		name  string
		ok    bool
	}{
		{checkRepo, "sentence-transformers/all-MiniLM-L6-v2", true},
		{checkRepo, "bert-base-uncased", true},
		{checkRepo, "_org/a.b_c", true},
		{checkRepo, "", false},
		{checkRepo, "../etc", false},
		{checkRepo, "a/b/c", false},
		{checkRepo, "org--x/name", false}, // "--" separates org and name in the cache
		{checkRepo, "org/na..me", false},
		{checkRepo, "org/.name", false},
		{checkRepo, "org/name-", false},
		{checkRepo, "org/" + strings.Repeat("n", 93), false},
		{checkRepo, "org/na me", false},

		{checkRevision, "main", true},
		{checkRevision, "v1.0.2", true},
		{checkRevision, "refs/pr/1", true},
		{checkRevision, "release/2024-01", true},
		{checkRevision, commitA, true},
		{checkRevision, "", false},
		{checkRevision, "../../../x", false},
		{checkRevision, "a..b", false},
		{checkRevision, "/etc/x", false},
		{checkRevision, "a//b", false},
		{checkRevision, "refs/", false},
		{checkRevision, ".hidden", false},
		{checkRevision, "refs/.x", false},
		{checkRevision, "main.lock", false},
		{checkRevision, "main.", false},
		{checkRevision, "a b", false},
		{checkRevision, `a\b`, false},
		{checkRevision, "a:b", false},
		{checkRevision, "HEAD@{1}", false},
		{checkRevision, "a\x00b", false},

		{checkFile, "config.json", true},
		{checkFile, "1_Pooling/config.json", true},
		{checkFile, "weights..v2.bin", true}, // ".." inside a name is not a traversal
		{checkFile, "", false},
		{checkFile, "../x", false},
		{checkFile, "a/../../b", false},
		{checkFile, "/etc/passwd", false},
		{checkFile, `..\x`, false},
		{checkFile, "a//b", false},
		{checkFile, "./a", false},
		{checkFile, "a\nb", false},
	} {
		if err := tc.check(tc.name); (err == nil) != tc.ok {
			t.Errorf("%q: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// TestUntrustedNamesStayInTheCache: a revision or file name written to
// escape the cache (as `hf:org/name@../../../x` once could: refs/<rev> was
// written after a download) is refused before any request or write.
func TestUntrustedNamesStayInTheCache(t *testing.T) {
	f, h := newFakeHub(t)
	root := filepath.Dir(h.CacheDir)
	f.branches["org/tiny@../../../escaped"] = commitA
	ctx := context.Background()
	for _, ref := range []string{"hf:org/tiny@../../../escaped", "hf:org/tiny@/tmp/escaped", "hf:../tiny", "hf:org/tiny@refs/../../escaped"} {
		if _, err := h.ResolveModel(ctx, ref); err == nil || !strings.Contains(err.Error(), "invalid") {
			t.Errorf("%s: err = %v, want an invalid name", ref, err)
		}
	}
	if _, err := h.Download(ctx, "org/tiny", "main", "../../../escaped"); err == nil {
		t.Error("a file name with .. was accepted")
	}
	if n := f.gets.Load(); n != 0 {
		t.Errorf("%d requests for invalid names", n)
	}
	if matches, _ := filepath.Glob(filepath.Join(root, "*escaped*")); len(matches) > 0 {
		t.Errorf("written outside the cache: %v", matches)
	}
}

// TestSymlinksInTheCache: the links huggingface_hub (snapshots → blobs)
// and scripts/seed-hf-cache.sh (snapshot → installed model package) make
// are read; a linked directory, through which a download would land
// outside the cache, is refused; a link is replaced, never written
// through; a ref that is not a commit id is ignored.
func TestSymlinksInTheCache(t *testing.T) {
	ctx := context.Background()
	outside := t.TempDir()
	newCache := func(t *testing.T) (*fakeHub, *Hub, string) {
		f, h := newFakeHub(t)
		repo := h.RepoDir("org/tiny")
		snap := filepath.Join(repo, "snapshots", commitA)
		for _, d := range []string{snap, filepath.Join(repo, "refs"), filepath.Join(repo, "blobs")} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(commitA), 0o644)
		return f, h, snap
	}
	link := func(t *testing.T, target, name string) {
		t.Helper()
		os.MkdirAll(filepath.Dir(name), 0o755)
		if err := os.Symlink(target, name); err != nil {
			t.Fatal(err)
		}
	}

	t.Run("huggingface_hub blobs and an installed model are read", func(t *testing.T) {
		_, h, snap := newCache(t)
		blob := filepath.Join(h.RepoDir("org/tiny"), "blobs", "0123abcd")
		os.WriteFile(blob, []byte(`{"model_type":"bert"}`), 0o644)
		link(t, "../../blobs/0123abcd", filepath.Join(snap, "config.json"))
		installed := filepath.Join(outside, "site-packages", "model.safetensors")
		os.MkdirAll(filepath.Dir(installed), 0o755)
		os.WriteFile(installed, []byte("weights"), 0o644)
		link(t, installed, filepath.Join(snap, "model.safetensors"))
		h.Offline = true
		for _, file := range []string{"config.json", "model.safetensors"} {
			p, err := h.Download(ctx, "org/tiny", "main", file)
			if err != nil || p != filepath.Join(snap, file) {
				t.Errorf("%s: %s, %v", file, p, err)
			}
		}
		if dir, err := h.ResolveModel(ctx, "hf:org/tiny"); err != nil || dir != snap {
			t.Errorf("offline model: %s, %v", dir, err)
		}
	})

	t.Run("a linked directory is neither read nor written through", func(t *testing.T) {
		f, h, snap := newCache(t)
		target := filepath.Join(outside, "pooling")
		os.MkdirAll(target, 0o755)
		os.WriteFile(filepath.Join(target, "config.json"), []byte("secret"), 0o644)
		link(t, target, filepath.Join(snap, "1_Pooling"))
		for _, offline := range []bool{true, false} {
			h.Offline = offline
			_, err := h.Download(ctx, "org/tiny", commitA, "1_Pooling/config.json")
			if !errors.Is(err, errLinkedDir) {
				t.Errorf("offline=%v: err = %v, want the linked directory refused", offline, err)
			}
		}
		if n := f.gets.Load(); n != 0 {
			t.Errorf("%d requests", n)
		}
		if b, _ := os.ReadFile(filepath.Join(target, "config.json")); string(b) != "secret" {
			t.Errorf("written through the link: %q", b)
		}
	})

	t.Run("a linked snapshot is refused", func(t *testing.T) {
		_, h, snap := newCache(t)
		os.RemoveAll(snap)
		link(t, outside, snap)
		h.Offline = true
		if _, err := h.Download(ctx, "org/tiny", "main", "config.json"); !errors.Is(err, errLinkedDir) {
			t.Errorf("err = %v", err)
		}
	})

	t.Run("a dangling link is replaced by the download", func(t *testing.T) {
		_, h, snap := newCache(t)
		target := filepath.Join(outside, "dangling.json")
		link(t, target, filepath.Join(snap, "config.json"))
		p, err := h.Download(ctx, "org/tiny", commitA, "config.json")
		if err != nil {
			t.Fatal(err)
		}
		info, _ := os.Lstat(p)
		if _, err := os.Stat(target); err == nil || info == nil || !info.Mode().IsRegular() {
			t.Errorf("the download went through the link (target exists: %v) or left it (%v)", err == nil, info)
		}
	})

	t.Run("a link to a directory is not a file", func(t *testing.T) {
		_, h, snap := newCache(t)
		link(t, outside, filepath.Join(snap, "config.json"))
		h.Offline = true
		if _, err := h.Download(ctx, "org/tiny", "main", "config.json"); !errors.Is(err, ErrNotCached) {
			t.Errorf("err = %v, want not cached", err)
		}
	})

	t.Run("a ref that is not a commit id is ignored", func(t *testing.T) {
		_, h, snap := newCache(t)
		os.WriteFile(filepath.Join(snap, "config.json"), []byte("{}"), 0o644)
		os.WriteFile(filepath.Join(h.RepoDir("org/tiny"), "refs", "main"), []byte("../../../../etc"), 0o644)
		h.Offline = true
		if _, err := h.Download(ctx, "org/tiny", "main", "config.json"); !errors.Is(err, ErrNotCached) {
			t.Errorf("err = %v, want not cached", err)
		}
	})

	t.Run("a ref link is replaced, not written through", func(t *testing.T) {
		_, h, _ := newCache(t)
		target := filepath.Join(outside, "ref-target")
		os.WriteFile(target, []byte("keep"), 0o644)
		ref := filepath.Join(h.RepoDir("org/tiny"), "refs", "main")
		os.Remove(ref)
		link(t, target, ref)
		if _, err := h.Download(ctx, "org/tiny", "main", "vocab.txt"); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(target); string(b) != "keep" {
			t.Errorf("the ref was written through its link: %q", b)
		}
		if b, _ := os.ReadFile(ref); string(b) != commitA {
			t.Errorf("ref = %q", b)
		}
	})
}

// TestOfflineSetUpResolves: the model scripts/seed-hf-cache.sh lays out in
// the machine's Hugging Face cache (links into the installed package)
// resolves offline under these rules.
func TestOfflineSetUpResolves(t *testing.T) {
	h := DefaultHub()
	h.Offline = true
	if _, err := os.Stat(h.RepoDir("sentence-transformers/all-MiniLM-L6-v2")); err != nil {
		t.Skipf("offline model not set up (./task setup:models): %v", err)
	}
	dir, err := h.ResolveModel(context.Background(), "hf:sentence-transformers/all-MiniLM-L6-v2")
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Lstat(filepath.Join(dir, SafetensorsFile))
	if err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is not the set-up's link (%v): this test no longer covers links", filepath.Join(dir, SafetensorsFile), err)
	}
}
