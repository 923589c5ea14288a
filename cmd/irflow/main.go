// Command irflow runs neural IR experiments from HCL recipes.
//
// Each subcommand lives in its own file and registers itself in init, so
// the command set grows without touching this dispatcher.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
)

// command is one subcommand. run returns an error; an exitError carries
// a specific exit code (recipe error vs stage failure).
type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{}

func register(name, summary string, run func(args []string) error) {
	if _, dup := commands[name]; dup {
		panic("irflow: command registered twice: " + name)
	}
	commands[name] = command{summary: summary, run: run}
}

// Exit codes. Scripts and CI tell recipe mistakes from failed stages.
const (
	exitOK          = 0
	exitFailure     = 1 // a stage failed, an expectation did not hold, I/O error
	exitUsage       = 2 // bad command line
	exitRecipeError = 3 // the recipe or one of its inputs is invalid
)

// exitError attaches an exit code to an error already reported to the user
// (Reported) or still to be printed.
type exitError struct {
	code     int
	err      error
	reported bool
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func usage() {
	fmt.Fprintln(os.Stderr, "usage: irflow <command> [flags] [args]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(os.Stderr, "\nRun 'irflow <command> -h' for a command's flags.")
}

func main() {
	os.Exit(dispatch(os.Args[1:]))
}

func dispatch(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage()
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Println("irflow", version())
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(os.Stderr, "irflow: unknown command %q\n", args[0])
		usage()
		return exitUsage
	}
	err := cmd.run(args[1:])
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if !ee.reported && ee.err != nil {
			fmt.Fprintln(os.Stderr, "irflow:", strings.TrimSpace(ee.err.Error()))
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "irflow:", strings.TrimSpace(err.Error()))
	return exitFailure
}

// newFlagSet makes a flag set for a subcommand; -h prints its usage.
func newFlagSet(name, argsUsage string) *flag.FlagSet {
	fs := flag.NewFlagSet("irflow "+name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: irflow %s [flags] %s\n", name, argsUsage)
		fs.PrintDefaults()
	}
	return fs
}
