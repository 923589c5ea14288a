package main

// Stage kinds linked into irflow: each package registers its kinds in
// init. The lead maintains this list.
import (
	_ "github.com/irflow/irflow/stages/bm25"
	_ "github.com/irflow/irflow/stages/evaluate"
	_ "github.com/irflow/irflow/stages/fit"
	_ "github.com/irflow/irflow/stages/fuse"
	_ "github.com/irflow/irflow/stages/neural"
	_ "github.com/irflow/irflow/stages/report"
	_ "github.com/irflow/irflow/stages/rerank"
)
