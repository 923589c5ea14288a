//go:build !torch

package libtorch_test

import (
	"testing"

	"github.com/irflow/irflow/stages/components/libtorch"
)

func wantVersion(testing.TB) string { return libtorch.Pinned }
