//go:build torch

package libtorch_test

import (
	"testing"

	"github.com/irflow/irflow/backends/torch"
	"github.com/irflow/irflow/stages/components/libtorch"
)

// wantVersion is the loaded libtorch's version, which in a build set up by
// ./task setup is the pinned one, so that the keys of both builds agree.
func wantVersion(t testing.TB) string {
	if v := torch.Version(); v != libtorch.Pinned {
		t.Errorf("this build loaded libtorch %q from %s, not the pinned %q: its keys differ from a build without the torch tag", v, torch.LibraryDir(), libtorch.Pinned)
	}
	return torch.Version()
}
