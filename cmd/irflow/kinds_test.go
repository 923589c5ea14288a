package main

import (
	"testing"

	"github.com/irflow/irflow/pipeline/stage"
)

// TestLinkedKindsAreDeclared: every kind irflow links says what its
// outputs are and what its inputs take, so that the loader can refuse a
// recipe that connects them wrongly (the test kinds, which register only
// in the subprocess, need not).
func TestLinkedKindsAreDeclared(t *testing.T) {
	n := 0
	for _, block := range stage.Blocks() {
		for _, method := range stage.Methods(block) {
			k, _ := stage.Lookup(block, method)
			n++
			if err := stage.Validate(k); err != nil {
				t.Error(err)
			}
			if _, err := stage.KeyComponents(k); err != nil {
				t.Error(err)
			}
			for _, o := range k.Outputs {
				if o.Format == "" {
					t.Errorf("%s/%s: output %q has no Format", block, method, o.Name)
				}
			}
			for _, p := range k.Params {
				if (p.Type == stage.Input || p.Type == stage.InputList) && len(p.Accepts) == 0 {
					t.Errorf("%s/%s: input %q accepts no format (Param.Accepts)", block, method, p.Name)
				}
			}
		}
	}
	if n < 4 {
		t.Errorf("only %d kinds linked", n)
	}
}
