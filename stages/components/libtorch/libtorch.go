// Package libtorch registers libtorch as a stage.Component, for the kinds
// that run models (Kind.Uses: libtorch.Name). It is apart from package
// components so that kinds without models do not link libtorch in torch
// builds.
package libtorch

import "github.com/irflow/irflow/pipeline/stage"

// Name is the component's name, for Kind.Uses.
const Name = "libtorch"

// Pinned is the version of the libtorch that ./task setup installs
// (scripts/setup-torch.sh pins the torch 2.11.0 wheel by sha256; this is
// its torch/version.py). A build without the torch tag cannot load
// libtorch, so it keys stages on this version: `irflow plan` from such a
// build finds the artifacts a torch build made with the pinned libtorch.
// A torch build keys on the libtorch it really loaded, so a different
// libtorch gets different keys.
const Pinned = "2.11.0+cu130"

func init() {
	stage.RegisterComponent(stage.Component{Name: Name, Version: version(),
		Doc: "libtorch as loaded by a torch build; " + Pinned + " (what ./task setup installs) in other builds"})
}
