// Package components registers the versioned dependencies that the results
// of several stage kinds share — the analysis chain, the WordPiece
// tokenizer, libtorch — as stage.Components. A kind that depends on one
// names it in Kind.Uses (and imports this package, so that it is
// registered first); its cache key then carries the component's version,
// and a new version re-runs exactly the stages that use it.
//
// The versions come from the packages that implement the components, never
// from numbers kept here: analysis.Version (inside the analysis identity),
// tokenizer.Version, and the libtorch the binary loads. Formats (index
// layouts, runs) are registered by the stage package that writes them.
package components

import (
	"strconv"

	"github.com/irflow/irflow/analysis"
	"github.com/irflow/irflow/models/tokenizer"
	"github.com/irflow/irflow/pipeline/stage"
)

// Names of the shared components, for Kind.Uses.
const (
	Analysis  = "analysis/english"
	Tokenizer = "tokenizer/wordpiece"
	Libtorch  = "libtorch"
)

// PinnedLibtorch is the version of the libtorch that ./task setup installs
// (scripts/setup-torch.sh pins the torch 2.1.0 wheel by sha256; this is its
// torch/version.py). A build without the torch tag cannot load libtorch,
// so it keys stages on this version: `irflow plan` from such a build finds
// the artifacts a torch build made with the pinned libtorch. A torch build
// keys on the libtorch it really loaded, so a different libtorch gets
// different keys.
const PinnedLibtorch = "2.1.0+cu121"

func init() {
	stage.RegisterComponent(stage.Component{Name: Analysis, Version: analysis.Config{}.Identity(),
		Doc: "Lucene 9.9.1 English analysis (analysis.Version; the stemmer and stop words are parameters)"})
	stage.RegisterComponent(stage.Component{Name: Tokenizer, Version: strconv.Itoa(tokenizer.Version),
		Doc: "Hugging Face-exact WordPiece tokenizer (models/tokenizer.Version)"})
	stage.RegisterComponent(stage.Component{Name: Libtorch, Version: libtorchVersion(),
		Doc: "libtorch as loaded by a torch build; " + PinnedLibtorch + " (what ./task setup installs) in other builds"})
}
