package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/log"
	"github.com/hashicorp/hcl/v2"
	"github.com/mattn/go-isatty"
	"github.com/muesli/termenv"
	"golang.org/x/term"

	"github.com/irflow/irflow/models/hf"
	"github.com/irflow/irflow/pipeline/cache"
	"github.com/irflow/irflow/pipeline/plan"
	"github.com/irflow/irflow/pipeline/recipe"
)

// multiFlag collects a repeatable string flag (-var a=1 -var b=2).
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// engineFlags are the flags shared by the commands that read recipes and
// the cache.
type engineFlags struct {
	vars      multiFlag
	varFiles  multiFlag
	cacheDir  string
	logLevel  string
	logFormat string
	// fetch lets remote inputs (hf:org/name) be downloaded while loading;
	// without it only what is already in the local cache resolves.
	fetch bool
}

func addEngineFlags(fs *flag.FlagSet, withRecipe bool) *engineFlags {
	f := &engineFlags{}
	if withRecipe {
		fs.Var(&f.vars, "var", "set a recipe variable: -var name=value (repeatable)")
		fs.Var(&f.varFiles, "var-file", "read variable values from an HCL file of name = value lines (repeatable)")
	}
	fs.StringVar(&f.cacheDir, "cache-dir", "", "cache directory (default $"+cache.Env+", else "+cache.DefaultDir+" in the working directory)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&f.logFormat, "log-format", "text", "log format: text or json")
	return f
}

// parseInterleaved parses flags given before, between or after positional
// arguments (irflow run r.hcl -var k=1), which flag.Parse alone stops at.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

func usageError(fs *flag.FlagSet, format string, args ...any) error {
	fmt.Fprintf(fs.Output(), "irflow: "+format+"\n", args...)
	fs.Usage()
	return &exitError{code: exitUsage, reported: true}
}

func (f *engineFlags) logger() (*log.Logger, error) {
	level, err := log.ParseLevel(f.logLevel)
	if err != nil {
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("--log-level %q: want debug, info, warn or error", f.logLevel)}
	}
	opts := log.Options{Level: level, ReportTimestamp: true}
	switch f.logFormat {
	case "text":
		opts.Formatter = log.TextFormatter
	case "json":
		opts.Formatter = log.JSONFormatter
	default:
		return nil, &exitError{code: exitUsage, err: fmt.Errorf("--log-format %q: want text or json", f.logFormat)}
	}
	// Handed a terminal, charmbracelet/log asks it for its colours and waits
	// up to 10 s for terminals that never answer (script, some multiplexers).
	// A plain writer skips the query; the colour profile is set here instead.
	logger := log.NewWithOptions(plainWriter{os.Stderr}, opts)
	if isatty.IsTerminal(os.Stderr.Fd()) && os.Getenv("NO_COLOR") == "" {
		logger.SetColorProfile(termenv.ANSI256)
	}
	return logger, nil
}

// plainWriter hides that the writer is a terminal.
type plainWriter struct{ w io.Writer }

func (p plainWriter) Write(b []byte) (int, error) { return p.w.Write(b) }

func (f *engineFlags) openCache() (*cache.Cache, error) {
	return cache.Open(cache.ResolveDir(f.cacheDir))
}

// loaded is a recipe ready for planning.
type loaded struct {
	recipe  *recipe.Recipe
	cache   *cache.Cache
	digests *cache.Digests
	plan    *plan.Plan
}

// load decodes a recipe and builds its plan. Recipe errors are printed
// with source snippets and returned as exit code 3; nothing is written to
// the cache.
func (f *engineFlags) load(path string) (*loaded, error) {
	c, err := f.openCache()
	if err != nil {
		return nil, err
	}
	digests := c.Digests()
	r, diags := recipe.Load(path, recipe.Options{Vars: f.vars, VarFiles: f.varFiles, Hasher: digests, Fetch: f.fetchRemote, Dataset: f.resolveDataset})
	if len(diags) > 0 {
		width, color := uint(0), false
		if isatty.IsTerminal(os.Stderr.Fd()) {
			color = true
			width = 100
			if w, _, err := term.GetSize(int(os.Stderr.Fd())); err == nil && w > 20 {
				width = uint(w)
			}
		}
		recipe.WriteDiagnostics(os.Stderr, r.Files, diags, width, color)
	}
	if diags.HasErrors() {
		n := 0
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				n++
			}
		}
		return nil, &exitError{code: exitRecipeError, err: fmt.Errorf("%s: %d error(s) in the recipe", path, n)}
	}
	p, err := plan.Build(r)
	if err != nil {
		return nil, &exitError{code: exitRecipeError, err: err}
	}
	return &loaded{recipe: r, cache: c, digests: digests, plan: p}, nil
}

// fetchRemote resolves a remote model reference through the Hugging Face
// cache; only `irflow run` may download (and HF_HUB_OFFLINE=1 forbids it).
func (f *engineFlags) fetchRemote(ref string) (string, error) {
	hub := hf.DefaultHub()
	if !f.fetch {
		hub.Offline = true
	}
	dir, err := hub.ResolveModel(context.Background(), ref)
	if errors.Is(err, hf.ErrNotCached) && !f.fetch {
		err = fmt.Errorf("not in the Hugging Face cache %s yet: `irflow run` downloads it (the other commands never do)", hub.CacheDir)
	}
	return dir, err
}

// oneRecipe parses a command's flags (interleaved with its arguments) and
// checks that exactly one recipe file was given.
func oneRecipe(fs *flag.FlagSet, args []string) (string, error) {
	args, err := parseInterleaved(fs, args)
	if err != nil {
		return "", err
	}
	if len(args) != 1 {
		return "", usageError(fs, "expected one recipe file, got %d arguments", len(args))
	}
	return args[0], nil
}
