package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/irflow/irflow/pipeline/exec"
	"github.com/irflow/irflow/pipeline/launch"
)

func init() {
	register("status", "show each stage of a recipe: cached or not, key, artifact path, metrics", statusCommand)
}

func statusCommand(args []string) error {
	fs := newFlagSet("status", "RECIPE")
	ef := addEngineFlags(fs, true)
	verify := fs.Bool("verify", false, "re-hash every cached artifact and check it against its manifest")
	path, err := oneRecipe(fs, args)
	if err != nil {
		return err
	}
	l, err := ef.load(path)
	if err != nil {
		return err
	}
	decisions, err := l.plan.Resolve(l.cache, l.digests)
	if err != nil {
		return err
	}
	detached, note := detachedStatus(l.cache, l.recipe.Path)
	tw := tabwriter.NewWriter(os.Stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ADDRESS\tSTATE\tKEY\tARTIFACT\tMETRICS")
	corrupt := 0
	for _, d := range decisions {
		state, key, dir, metrics := "not built", "-", "-", ""
		if d.Key != "" {
			key = d.Key[:12]
			if !d.Cached && detached[d.Stage.Address] == "" {
				if w := workState(l.cache, d.Key); w != "" {
					state += " (" + w + ")"
				}
			}
		} else {
			state = "not built (upstream not built)"
		}
		if j := detached[d.Stage.Address]; j != "" && !d.Cached {
			if d.Key != "" {
				if p := progressState(l.cache, d.Key); p != "" {
					j += ", " + p
				} else if r, ok := launch.ReadResult(l.cache.WorkDir(d.Key)); ok && r.State == "failed" {
					msg, _, _ := strings.Cut(r.Error, "\n")
					j += ", last attempt: " + msg
				}
			}
			state = strings.TrimSuffix(state, ")")
			if strings.Contains(state, "(") {
				state += "; " + j + ")"
			} else {
				state += " (" + j + ")"
			}
		}
		if d.Cached {
			state, dir, metrics = "cached", l.cache.ObjectDir(d.Key), exec.FormatMetrics(d.Manifest.Metrics)
			if *verify {
				if err := l.cache.Verify(d.Key); err != nil {
					// Moved aside so no run uses it; the next run rebuilds it.
					state = "CORRUPT (moved aside, will be rebuilt): " + err.Error()
					corrupt++
					if qerr := l.cache.Quarantine(d.Key); qerr != nil {
						state += "; could not move it aside: " + qerr.Error()
					}
				} else {
					state = "cached, verified"
				}
			}
		}
		if j := detached[d.Stage.Address]; j != "" && d.Cached {
			state += " (" + j + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Stage.Address, state, key, dir, metrics)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if note != "" {
		fmt.Println(note)
	}
	if corrupt > 0 {
		return &exitError{code: exitFailure, err: fmt.Errorf("%d artifact(s) did not match their manifest", corrupt)}
	}
	return nil
}
