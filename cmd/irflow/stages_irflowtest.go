//go:build irflowtest

package main

import "github.com/irflow/irflow/stages/testkinds"

// Built with -tags irflowtest, irflow also has the test kinds (test_write,
// test_concat, …) for trying the engine by hand.
func init() { testkinds.Register() }
