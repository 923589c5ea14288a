package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/irflow/irflow/ir/datasets"
)

func init() {
	register("datasets", "list, fetch and verify the catalogued datasets (beir/scifact/train, …)", datasetsCommand)
}

const datasetsUsage = `usage: irflow datasets <list|fetch|verify> [flags] [NAME…]

  list [--json]          the catalog: each dataset's files, sizes, licence and
                         what of it the store holds
  fetch [--all] NAME…    download (or copy from the mirror) into the store,
                         resuming partial transfers and checking every sha256
  verify [NAME…]         re-hash the stored files; without names, every file
                         present in the store. Exit 1 on a missing or corrupt file

Flags of every subcommand: --store DIR (default $` + datasets.EnvDir + `, else
~/.cache/irflow/datasets), --mirror URL|DIR (default $` + datasets.EnvMirror + `).
Recipes name datasets in collection blocks: collection "c" { dataset = "adi" }.
`

func datasetsCommand(args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(os.Stderr, datasetsUsage)
		if len(args) == 0 {
			return &exitError{code: exitUsage, reported: true}
		}
		return nil
	}
	switch args[0] {
	case "list":
		return datasetsList(args[1:])
	case "fetch":
		return datasetsFetch(args[1:])
	case "verify":
		return datasetsVerify(args[1:])
	}
	fmt.Fprintf(os.Stderr, "irflow datasets: unknown subcommand %q\n\n%s", args[0], datasetsUsage)
	return &exitError{code: exitUsage, reported: true}
}

// storeFlags are the flags that pick the store and its mirror.
type storeFlags struct{ dir, mirror string }

func addStoreFlags(fs *flag.FlagSet) *storeFlags {
	f := &storeFlags{}
	fs.StringVar(&f.dir, "store", "", "dataset store directory (default $"+datasets.EnvDir+", else ~/.cache/irflow/datasets)")
	fs.StringVar(&f.mirror, "mirror", "", "mirror holding the layout: http(s) URL, file:// URL or directory (default $"+datasets.EnvMirror+")")
	return f
}

func (f *storeFlags) store() (*datasets.Store, error) {
	st := &datasets.Store{Dir: f.dir, Mirror: os.Getenv(datasets.EnvMirror)}
	if st.Dir == "" {
		env, err := datasets.FromEnv()
		if err != nil {
			return nil, err
		}
		st.Dir = env.Dir
	}
	if f.mirror != "" {
		st.Mirror = f.mirror
	}
	return st, nil
}

// lookupDatasets finds the named datasets; an unknown name is a usage
// error with the closest catalogued name.
func lookupDatasets(names []string) ([]*datasets.Dataset, error) {
	var out []*datasets.Dataset
	for _, n := range names {
		d, ok := datasets.Lookup(n)
		if !ok {
			msg := fmt.Sprintf("unknown dataset %q", n)
			if s := datasets.Suggest(n); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			msg += " (`irflow datasets list` shows the catalog)"
			return nil, &exitError{code: exitUsage, err: errors.New(msg)}
		}
		out = append(out, d)
	}
	return out, nil
}

// ---- list -----------------------------------------------------------------

type listedFile struct {
	Role    string `json:"role"`
	System  string `json:"system,omitempty"`
	Path    string `json:"path"`
	Size    int64  `json:"size"`
	SHA256  string `json:"sha256"`
	URL     string `json:"url,omitempty"`
	Derived bool   `json:"derived,omitempty"`
	// State is "present", "partial" or "missing" (by name and size; verify
	// re-hashes); Local is the file's place in the store.
	State string `json:"state"`
	Local string `json:"local"`
}

type listedDataset struct {
	Name    string       `json:"name"`
	Doc     string       `json:"doc"`
	Source  string       `json:"source"`
	License string       `json:"license"`
	Size    int64        `json:"size"`
	Present int          `json:"present"`
	Files   []listedFile `json:"files"`
}

func datasetsList(args []string) error {
	fs := newFlagSet("datasets list", "")
	sf := addStoreFlags(fs)
	asJSON := fs.Bool("json", false, "print the catalog as JSON")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageError(fs, "list takes no arguments, got %q", rest)
	}
	st, err := sf.store()
	if err != nil {
		return err
	}
	var out []listedDataset
	for _, name := range datasets.Names() {
		d, _ := datasets.Lookup(name)
		ld := listedDataset{Name: d.Name, Doc: d.Doc, Source: d.Source, License: d.License, Files: []listedFile{}}
		for _, r := range d.Roles() {
			state, _ := st.State(r.File)
			local, _ := st.Path(r.File)
			ld.Files = append(ld.Files, listedFile{Role: r.Role, System: r.System, Path: r.File.Path, Size: r.File.Size,
				SHA256: r.File.SHA256, URL: r.File.URL, Derived: r.Derived, State: state.String(), Local: local})
			ld.Size += r.File.Size
			if state == datasets.Present {
				ld.Present++
			}
		}
		out = append(out, ld)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Store    string          `json:"store"`
			Mirror   string          `json:"mirror,omitempty"`
			Datasets []listedDataset `json:"datasets"`
		}{st.Dir, st.Mirror, out})
	}
	fmt.Printf("Store %s", st.Dir)
	if st.Mirror != "" {
		fmt.Printf(" (mirror %s)", st.Mirror)
	}
	fmt.Print("\n\n")
	for _, d := range out {
		fmt.Printf("%s  (%d files, %s, %d of %d in the store; %s)\n", d.Name, len(d.Files), formatBytes(d.Size), d.Present, len(d.Files), d.License)
		tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
		for _, f := range d.Files {
			role := f.Role
			if f.System != "" {
				role += "." + f.System
			}
			state := f.State
			if f.Derived {
				state += " (derived)"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", role, f.Path, formatBytes(f.Size), state)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// ---- fetch ----------------------------------------------------------------

func datasetsFetch(args []string) error {
	fs := newFlagSet("datasets fetch", "NAME…")
	sf := addStoreFlags(fs)
	all := fs.Bool("all", false, "fetch every catalogued dataset")
	names, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if *all {
		if len(names) > 0 {
			return usageError(fs, "give dataset names or --all, not both")
		}
		names = datasets.Names()
	}
	if len(names) == 0 {
		return usageError(fs, "name the datasets to fetch (`irflow datasets list` shows them), or --all")
	}
	ds, err := lookupDatasets(names)
	if err != nil {
		return err
	}
	st, err := sf.store()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	pr := newProgress(os.Stderr)
	st.Logf = pr.logf
	st.Progress = pr.update
	failed := 0
	for _, d := range ds {
		if err := fetchDataset(ctx, st, d, pr); err != nil {
			pr.logf("irflow: %s: %v", d.Name, err)
			failed++
			if ctx.Err() != nil {
				break
			}
		}
	}
	if failed > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("%d of %d dataset(s) could not be fetched", failed, len(ds))}
	}
	return nil
}

// fetchDataset makes every file of d present and verified in the store.
// A file already there is re-hashed first: a damaged one is removed and
// transferred again, so fetch also repairs what verify reports.
func fetchDataset(ctx context.Context, st *datasets.Store, d *datasets.Dataset, pr *progress) error {
	for _, f := range d.Files() {
		if state, _ := st.State(f); state == datasets.Present {
			err := st.Verify(f)
			if err == nil {
				pr.logf("%-8s %s", "ok", f.Path)
				continue
			}
			pr.logf("%-8s %v; fetching it again", "corrupt", err)
			if err := st.Remove(f); err != nil {
				return fmt.Errorf("%s: %w", f.Path, err)
			}
		}
		start := time.Now()
		if _, err := st.Fetch(ctx, f); err != nil {
			pr.done()
			return err
		}
		pr.done()
		pr.logf("%-8s %s (%s, sha256 verified, %.1fs)", "fetched", f.Path, formatBytes(f.Size), time.Since(start).Seconds())
	}
	// Resolve derives what the store writes itself (judged queries).
	if _, err := st.Resolve(ctx, d.Name); err != nil {
		return err
	}
	pr.logf("%s: %d files in %s", d.Name, len(d.Roles()), st.Dir)
	return nil
}

// progress prints transfer progress: a line redrawn in place on a
// terminal, nothing but the log lines otherwise.
type progress struct {
	w    io.Writer
	tty  bool
	mu   sync.Mutex
	last time.Time
	open bool // a progress line is on screen
}

func newProgress(w *os.File) *progress {
	return &progress{w: w, tty: isatty.IsTerminal(w.Fd())}
}

func (p *progress) update(f datasets.File, done int64) {
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond || done == f.Size {
		p.last = now
		pct := 100.0
		if f.Size > 0 {
			pct = 100 * float64(done) / float64(f.Size)
		}
		fmt.Fprintf(p.w, "\r\033[K%-8s %s %5.1f%% of %s", "fetching", f.Path, pct, formatBytes(f.Size))
		p.open = true
	}
}

// done ends a progress line.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.open {
		fmt.Fprint(p.w, "\r\033[K")
		p.open = false
	}
}

func (p *progress) logf(format string, args ...any) {
	p.done()
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}

// ---- verify ---------------------------------------------------------------

func datasetsVerify(args []string) error {
	fs := newFlagSet("datasets verify", "[NAME…]")
	sf := addStoreFlags(fs)
	names, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	// Without names, every file in the store is checked and files never
	// fetched are no problem; named datasets must be complete.
	complete := len(names) > 0
	if !complete {
		names = datasets.Names()
	}
	ds, err := lookupDatasets(names)
	if err != nil {
		return err
	}
	st, err := sf.store()
	if err != nil {
		return err
	}
	results := map[string]error{} // by layout path: datasets share files
	checked, problems := 0, 0
	for _, d := range ds {
		for _, r := range d.Roles() {
			f := r.File
			err, seen := results[f.Path]
			if !seen {
				err = st.Verify(f)
				results[f.Path] = err
			}
			var ve *datasets.VerifyError
			missing := errors.As(err, &ve) && ve.Missing
			if missing && !complete {
				continue
			}
			if !seen {
				checked++
			}
			switch {
			case err == nil:
				fmt.Printf("%-8s %s  %s\n", "ok", d.Name, f.Path)
			case missing:
				fmt.Printf("%-8s %s  %s: %s is not in the store (irflow datasets fetch %s)\n", "MISSING", d.Name, f.Path, ve.Path, d.Name)
			case ve != nil && ve.Err == nil:
				fmt.Printf("%-8s %s  %s: %s has sha256 %s (%d bytes), want %s (%d bytes); irflow datasets fetch %s replaces it\n",
					"CORRUPT", d.Name, f.Path, ve.Path, ve.SHA256, ve.Size, f.SHA256, f.Size, d.Name)
			default:
				fmt.Printf("%-8s %s  %v\n", "ERROR", d.Name, err)
			}
			if err != nil && !seen {
				problems++
			}
		}
	}
	if problems > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("%d of %d file(s) in %s missing or corrupt", problems, checked, st.Dir)}
	}
	fmt.Printf("%d file(s) verified in %s\n", checked, st.Dir)
	return nil
}

// ---- recipes ----------------------------------------------------------------

// resolveDataset gives recipes' `dataset =` collections their files from
// the store. Like hf: models, only `irflow run` downloads; the other
// commands use what the store holds (irflow datasets fetch fills it).
func (f *engineFlags) resolveDataset(name string) (*datasets.Paths, error) {
	st, err := datasets.FromEnv()
	if err != nil {
		return nil, err
	}
	st.Offline = !f.fetch
	st.Logf = func(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }
	p, err := st.Resolve(context.Background(), name)
	if errors.Is(err, datasets.ErrNotInStore) {
		err = fmt.Errorf("%w yet; `irflow run` fetches it, or `irflow datasets fetch %s` (the other commands never download)", err, name)
	}
	return p, err
}
