package optim

import (
	"testing"

	"github.com/irflow/irflow/backends/torch"
)

func TestOptionsAndGroups(t *testing.T) {
	o, err := Options{LR: 1e-3}.withDefaults()
	if err != nil || o.Beta1 != 0.9 || o.Beta2 != 0.999 || o.Eps != 1e-8 || o.WeightDecay != 0.01 {
		t.Fatalf("defaults: %+v %v", o, err)
	}
	for _, bad := range []Options{{LR: -1}, {Beta1: 1}, {Beta2: 1.5}, {Eps: -1}} {
		if _, err := bad.withDefaults(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	p := &torch.Tensor{}
	gs, err := checkGroups([]Group{{Params: []*torch.Tensor{p}, Names: []string{"a"}, WeightDecay: -1}}, o)
	if err != nil || gs[0].WeightDecay != 0.01 {
		t.Fatalf("negative decay takes the default: %+v %v", gs, err)
	}
	for name, g := range map[string][]Group{
		"none":           nil,
		"names mismatch": {{Params: []*torch.Tensor{p}}},
		"duplicate name": {{Params: []*torch.Tensor{p}, Names: []string{"a"}}, {Params: []*torch.Tensor{p}, Names: []string{"a"}}},
		"nil param":      {{Params: []*torch.Tensor{nil}, Names: []string{"a"}}},
	} {
		if _, err := checkGroups(g, o); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
