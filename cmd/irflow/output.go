package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/irflow/irflow/pipeline/recipe"
)

func init() {
	register("output", "print the path of a built artifact, e.g. irflow output r.hcl search.bm25.run", outputCommand)
}

func outputCommand(args []string) error {
	fs := newFlagSet("output", "RECIPE ADDRESS")
	ef := addEngineFlags(fs, true)
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 2 {
		return usageError(fs, "expected a recipe and an address such as search.bm25.run")
	}
	path, address := rest[0], rest[1]
	l, err := ef.load(path)
	if err != nil {
		return err
	}
	stageAddr, output, err := parseOutputAddress(address)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	st := l.recipe.Stage(stageAddr)
	if st == nil {
		var known []string
		for _, s := range l.recipe.Stages {
			known = append(known, s.Address)
		}
		return &exitError{code: exitUsage, err: fmt.Errorf("%s has no stage %s; its stages are: %s", path, stageAddr, strings.Join(known, ", "))}
	}
	outPath := ""
	if output != "" {
		for _, o := range st.Kind.Outputs {
			if o.Name == output {
				outPath = strings.TrimSuffix(o.Path, "/")
			}
		}
		if outPath == "" {
			var names []string
			for _, o := range st.Kind.Outputs {
				names = append(names, o.Name)
			}
			return &exitError{code: exitUsage, err: fmt.Errorf("%s has no output %q; its outputs are: %s", stageAddr, output, strings.Join(names, ", "))}
		}
	}
	decisions, err := l.plan.Resolve(l.cache, l.digests)
	if err != nil {
		return err
	}
	for _, d := range decisions {
		if d.Stage != st {
			continue
		}
		if !d.Cached {
			return &exitError{code: exitFailure, err: fmt.Errorf("%s is not built yet (%s): run irflow run %s", stageAddr, strings.Join(d.Reasons, "; "), path)}
		}
		fmt.Println(filepath.Join(l.cache.ObjectDir(d.Key), filepath.FromSlash(outPath)))
		return nil
	}
	return fmt.Errorf("%s is not in the plan", stageAddr)
}

// parseOutputAddress splits `search.bm25.run` or `search.bm25["k"].run`
// into the stage address and the output name ("" for the whole artifact).
func parseOutputAddress(s string) (stageAddr, output string, err error) {
	tr, diags := hclsyntax.ParseTraversalAbs([]byte(s), "<address>", hcl.InitialPos)
	bad := fmt.Errorf("invalid address %q: want BLOCK.NAME.OUTPUT or BLOCK.NAME[\"KEY\"].OUTPUT", s)
	if diags.HasErrors() || len(tr) < 2 {
		return "", "", bad
	}
	name, ok := tr[1].(hcl.TraverseAttr)
	if !ok {
		return "", "", bad
	}
	rest := tr[2:]
	key, hasKey := "", false
	if len(rest) > 0 {
		if idx, ok := rest[0].(hcl.TraverseIndex); ok {
			if idx.Key.Type() != cty.String {
				return "", "", bad
			}
			key, hasKey = idx.Key.AsString(), true
			rest = rest[1:]
		}
	}
	if len(rest) > 1 {
		return "", "", bad
	}
	if len(rest) == 1 {
		a, ok := rest[0].(hcl.TraverseAttr)
		if !ok {
			return "", "", bad
		}
		output = a.Name
	}
	return recipe.Address(tr.RootName(), name.Name, key, hasKey), output, nil
}
