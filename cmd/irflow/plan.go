package main

import (
	"fmt"
	"os"

	"github.com/irflow/irflow/pipeline/plan"
)

func init() {
	register("plan", "show which stages of a recipe are cached and why the others would run", planCommand)
}

func planCommand(args []string) error {
	fs := newFlagSet("plan", "RECIPE [ADDRESS…]")
	ef := addEngineFlags(fs, true)
	path, targets, err := recipeAndTargets(fs, args)
	if err != nil {
		return err
	}
	l, err := ef.load(path)
	if err != nil {
		return err
	}
	if err := l.selectTargets(targets); err != nil {
		return err
	}
	decisions, err := l.plan.Resolve(l.cache, l.digests)
	if err != nil {
		return err
	}
	fmt.Printf("Plan for %s (cache %s):\n\n", path, l.cache.Dir)
	return plan.WriteText(os.Stdout, decisions)
}
