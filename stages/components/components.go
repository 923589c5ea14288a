// Package components registers the versioned dependencies that the results
// of several stage kinds share — the analysis chain, the WordPiece
// tokenizer, libtorch — as stage.Components. A kind that depends on one
// names it in Kind.Uses (and imports this package, so that it is
// registered first); its cache key then carries the component's version,
// and a new version re-runs exactly the stages that use it.
//
// The versions come from the packages that implement the components, never
// from numbers kept here: analysis.Version (inside the analysis identity)
// and tokenizer.Version. libtorch is registered by the subpackage libtorch
// (it links libtorch in torch builds). Formats (index layouts, runs) are
// registered by the stage package that writes them.
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
)

func init() {
	stage.RegisterComponent(stage.Component{Name: Analysis, Version: analysis.Config{}.Identity(),
		Doc: "Lucene 9.9.1 English analysis (analysis.Version; the stemmer and stop words are parameters)"})
	stage.RegisterComponent(stage.Component{Name: Tokenizer, Version: strconv.Itoa(tokenizer.Version),
		Doc: "Hugging Face-exact WordPiece tokenizer (models/tokenizer.Version)"})
}
