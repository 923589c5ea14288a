package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/charmbracelet/log"

	"github.com/irflow/irflow/pipeline/launch"
	"github.com/irflow/irflow/pipeline/target"
)

// recipeAndTargets parses a command's flags and its arguments: a recipe
// file, then the addresses of the stages to run or plan (none: all).
func recipeAndTargets(fs *flag.FlagSet, args []string) (string, []string, error) {
	args, err := parseInterleaved(fs, args)
	if err != nil {
		return "", nil, err
	}
	if len(args) == 0 {
		return "", nil, usageError(fs, "expected a recipe file and optionally the addresses of stages to run")
	}
	for _, a := range args[1:] {
		// Stage addresses are block.name[...]; a second file is a mistake.
		if strings.HasSuffix(a, ".hcl") {
			return "", nil, usageError(fs, "expected one recipe file, then stage addresses; %s looks like a second recipe", a)
		}
	}
	return args[0], args[1:], nil
}

// selectTargets narrows the plan to the named stages and their upstream
// stages; an unknown address is a recipe error that lists the addresses.
func (l *loaded) selectTargets(addresses []string) error {
	p, err := target.Select(l.plan, addresses)
	if err != nil {
		return &exitError{code: exitRecipeError, err: err}
	}
	l.plan = p
	return nil
}

// newLauncher picks where stages run: the --executor flag, else the
// recipe's executor block, else in this process.
func newLauncher(name string, l *loaded, logger *log.Logger) (launch.Launcher, error) {
	if name == "" {
		name = "local"
		if l.recipe.Executor != nil {
			name = l.recipe.Executor.Type
		}
	}
	switch name {
	case "local":
		return nil, nil // exec's default: launch.InProcess
	case "process":
		return launch.Process{}, nil
	case "slurm":
		return newSlurmLauncher(l, logger)
	}
	return nil, &exitError{code: exitUsage, err: fmt.Errorf("--executor %q: want local, process or slurm", name)}
}

// flagGiven reports whether the command line set a flag.
func flagGiven(fs *flag.FlagSet, name string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}
