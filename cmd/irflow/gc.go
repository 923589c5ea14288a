package main

import (
	"fmt"
	"os"

	"github.com/irflow/irflow/pipeline/cache"
)

func init() {
	register("gc", "remove cache entries no recipe refers to (dry run unless --force)", gcCommand)
}

func gcCommand(args []string) error {
	fs := newFlagSet("gc", "[RECIPE…]")
	ef := addEngineFlags(fs, true)
	force := fs.Bool("force", false, "really remove (default: only list what would be removed)")
	recipes, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	c, err := ef.openCache()
	if err != nil {
		return err
	}
	live := map[string]bool{}
	var staleRefs []string
	if len(recipes) > 0 {
		// Keep what the given recipes use now and what they last committed.
		for _, path := range recipes {
			l, err := ef.load(path)
			if err != nil {
				return err
			}
			decisions, err := l.plan.Resolve(l.cache, l.digests)
			if err != nil {
				return err
			}
			for _, d := range decisions {
				if d.Key != "" {
					live[d.Key] = true
				}
			}
			refs, err := c.Refs(l.recipe.Path)
			if err != nil {
				return err
			}
			for _, ref := range refs.Stages {
				live[ref.Key] = true
			}
		}
	} else {
		// Keep what any recipe that still exists last committed.
		all, paths, err := c.AllRefs()
		if err != nil {
			return err
		}
		for i, refs := range all {
			if _, err := os.Stat(refs.Recipe); err != nil {
				staleRefs = append(staleRefs, paths[i])
				continue
			}
			for _, ref := range refs.Stages {
				live[ref.Key] = true
			}
		}
	}
	rep, gcErr := c.GC(live, staleRefs, *force)
	if rep == nil {
		return gcErr
	}
	verb := "would remove"
	if *force {
		verb = "removed"
	}
	for _, group := range []struct {
		name  string
		items []cache.GCItem
	}{{"object", rep.Objects}, {"temporary dir", rep.Tmp}, {"checkpoint", rep.Checkpoints}, {"lock", rep.Locks}, {"refs", rep.Refs}} {
		for _, it := range group.items {
			note := ""
			if it.Note != "" {
				note = " (" + it.Note + ")"
			}
			fmt.Printf("%s %s %s%s, %s\n", verb, group.name, it.Path, note, formatBytes(it.Bytes))
		}
	}
	fmt.Printf("%s %d item(s), %s in all.\n", map[bool]string{true: "Removed", false: "Would remove"}[*force], len(rep.Items()), formatBytes(rep.Bytes))
	if !*force && len(rep.Items()) > 0 {
		fmt.Println("Dry run: nothing was removed; run irflow gc --force to remove these.")
	}
	return gcErr
}

// formatBytes prints a size in binary units (1.5 MiB).
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
