package main

import "os"

func init() {
	register("graph", "print a recipe's stage graph as Graphviz DOT or Mermaid", graphCommand)
}

func graphCommand(args []string) error {
	fs := newFlagSet("graph", "RECIPE")
	ef := addEngineFlags(fs, true)
	format := fs.String("format", "dot", "output format: dot or mermaid")
	path, err := oneRecipe(fs, args)
	if err != nil {
		return err
	}
	if *format != "dot" && *format != "mermaid" {
		return usageError(fs, "--format %q: want dot or mermaid", *format)
	}
	l, err := ef.load(path)
	if err != nil {
		return err
	}
	if *format == "mermaid" {
		return l.plan.WriteMermaid(os.Stdout)
	}
	return l.plan.WriteDOT(os.Stdout)
}
