package data

import (
	"fmt"
	"slices"
	"strings"

	"github.com/irflow/irflow/ir/collection"
)

// readQueryTexts reads a queries file (TSV or BEIR JSONL) and returns the
// texts of the wanted ids; a wanted id missing from the file is an error.
func readQueryTexts(path string, want map[string]bool) (map[string]string, error) {
	qs, err := collection.ReadQueriesFile(path)
	if err != nil {
		return nil, err
	}
	texts := make(map[string]string, len(want))
	for _, q := range qs {
		if want[q.ID] {
			texts[q.ID] = q.Text
		}
	}
	if missing := missingIDs(want, texts); len(missing) > 0 {
		return nil, fmt.Errorf("%s: %d training quer%s not in the queries file: %s", path, len(missing), plural(len(missing), "y", "ies"), listIDs(missing))
	}
	return texts, nil
}

// readDocTexts streams a documents file (TSV or BEIR JSONL) once and keeps
// only the wanted documents, so a large collection costs memory only for
// the documents the samples use. A wanted id missing from the file, or
// found twice, is an error.
func readDocTexts(path string, want map[string]bool) (map[string]string, error) {
	texts, err := collection.ModelTextsOf(path, want)
	if err != nil {
		return nil, err
	}
	if missing := missingIDs(want, texts); len(missing) > 0 {
		return nil, fmt.Errorf("%s: %d training document%s not in the documents file: %s", path, len(missing), plural(len(missing), "", "s"), listIDs(missing))
	}
	return texts, nil
}

func missingIDs(want map[string]bool, have map[string]string) []string {
	var missing []string
	for id := range want {
		if _, ok := have[id]; !ok {
			missing = append(missing, id)
		}
	}
	slices.Sort(missing)
	return missing
}

// listIDs quotes up to five ids.
func listIDs(ids []string) string {
	const show = 5
	var b strings.Builder
	for i, id := range ids {
		if i == show {
			fmt.Fprintf(&b, " and %d more", len(ids)-show)
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", id)
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
