package stage

import (
	"fmt"
	"sort"
)

// Component is a versioned dependency of stage results that is not the
// kind's own code: an analysis chain, a tokenizer, libtorch, an on-disk
// format. Kinds name the components they depend on (Kind.Uses; outputs'
// formats count too) and the cache key holds each one's Version, so
// changing a component re-runs exactly the stages that depend on it.
//
// Components are registered in init by the package that knows their
// version (stages/components for the shared ones), never bumped by hand
// in the kinds.
type Component struct {
	// Name is how kinds refer to it: "analysis/english", "libtorch",
	// "index/bm25". Formats are components too and share the namespace.
	Name string
	// Version is any string that changes whenever results could change:
	// "3", "2.1.0+cu121", an identity string.
	Version string
	Doc     string
}

var components = map[string]Component{}

// RegisterComponent adds a component. Registering the same name again
// with the same version is allowed (two packages may both declare a
// shared dependency); with another version it panics.
func RegisterComponent(c Component) {
	regMu.Lock()
	defer regMu.Unlock()
	registerComponent(c)
}

func registerComponent(c Component) {
	if c.Name == "" || c.Version == "" {
		panic(fmt.Sprintf("stage: component %q needs a name and a version", c.Name))
	}
	if prev, ok := components[c.Name]; ok && prev.Version != c.Version {
		panic(fmt.Sprintf("stage: component %s registered with versions %q and %q", c.Name, prev.Version, c.Version))
	}
	components[c.Name] = c
}

// LookupComponent finds a registered component (or format) by name.
func LookupComponent(name string) (Component, bool) {
	regMu.RLock()
	defer regMu.RUnlock()
	c, ok := components[name]
	return c, ok
}

// Components lists the registered components and formats, by name.
func Components() []Component {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]Component, 0, len(components))
	for _, c := range components {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// KeyComponents returns the versions that enter a kind's cache key: every
// component in Uses and the format of every output, by name. It fails
// when one is not registered.
func KeyComponents(k *Kind) (map[string]string, error) {
	out := map[string]string{}
	names := append([]string(nil), k.Uses...)
	for _, o := range k.Outputs {
		if o.Format != "" {
			names = append(names, o.Format)
		}
	}
	for _, n := range names {
		c, ok := LookupComponent(n)
		if !ok {
			return nil, fmt.Errorf("stage kind %s/%s depends on component %q, which no package registered", k.Block, k.Method, n)
		}
		out[n] = c.Version
	}
	return out, nil
}
