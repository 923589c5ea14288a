package libtorch_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/pipeline/stage"
	"github.com/irflow/irflow/stages/components/libtorch"
)

// TestRegisteredVersion: a torch build keys on the libtorch it loaded, a
// build without the tag on the pinned one.
func TestRegisteredVersion(t *testing.T) {
	c, ok := stage.LookupComponent(libtorch.Name)
	if want := wantVersion(t); !ok || c.Version != want {
		t.Errorf("registered %q (%v), want %q", c.Version, ok, want)
	}
}

// TestPinnedIsWhatSetupInstalls: Pinned must be the version of the
// libtorch ./task setup installs, or a build with and one without the
// torch tag would disagree on every key of a stage that uses libtorch.
func TestPinnedIsWhatSetupInstalls(t *testing.T) {
	root := testenv.RepoRoot(t)
	script, err := os.ReadFile(filepath.Join(root, "scripts", "setup-torch.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^TORCH_VERSION=(\S+)$`).FindSubmatch(script)
	if m == nil || !strings.HasPrefix(libtorch.Pinned, string(m[1])+"+") {
		t.Errorf("setup-torch.sh installs torch %q; Pinned is %q", m, libtorch.Pinned)
	}
	version, err := os.ReadFile(filepath.Join(root, ".cache", "libtorch", "torch", "version.py"))
	if err != nil {
		t.Skipf("libtorch not set up (./task setup:torch): %v", err)
	}
	if !strings.Contains(string(version), "__version__ = '"+libtorch.Pinned+"'") {
		t.Errorf("the installed libtorch's version.py does not say %q:\n%s", libtorch.Pinned, version)
	}
}
