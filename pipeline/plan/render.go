package plan

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
)

// WriteText prints decisions like `terraform plan`: one line per stage,
// "=" cached, "+" new, "~" changed, with the reasons a stage will run.
func WriteText(w io.Writer, decisions []*Decision) error {
	width := 0
	for _, d := range decisions {
		width = max(width, len(d.Stage.Address))
	}
	run := 0
	for _, d := range decisions {
		var err error
		switch {
		case d.Cached:
			_, err = fmt.Fprintf(w, "  = %-*s  cached    %s\n", width, d.Stage.Address, d.Key[:12])
		default:
			run++
			mark := "~"
			if len(d.Reasons) > 0 && d.Reasons[0] == "new stage" {
				mark = "+"
			}
			_, err = fmt.Fprintf(w, "  %s %-*s  will run  %s\n", mark, width, d.Stage.Address, firstOr(d.Reasons, ""))
			for _, r := range rest(d.Reasons) {
				if err == nil {
					_, err = fmt.Fprintf(w, "    %-*s            %s\n", width, "", r)
				}
			}
		}
		if err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "\nPlan: %d to run, %d cached.\n", run, len(decisions)-run)
	return err
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	return s[0]
}

func rest(s []string) []string {
	if len(s) < 2 {
		return nil
	}
	return s[1:]
}

// edge is one arrow of a rendered graph.
type edge struct{ from, to, label string }

// graphParts lists a plan's nodes (stages, then the named and literal
// external inputs they read) and edges labelled with the output read.
func (p *Plan) graphParts() (stages, inputs []string, edges []edge) {
	named := map[string]string{} // path → collection.x.y
	for _, in := range p.Recipe.Inputs {
		named[in.Path] = in.Address
	}
	seenInput := map[string]bool{}
	for _, st := range p.Stages {
		stages = append(stages, st.Address)
		for _, in := range st.Inputs() {
			if in.From != nil {
				edges = append(edges, edge{in.From.Address, st.Address, in.From.Output})
				continue
			}
			name := named[in.Path]
			if in.Ref != "" {
				name = in.Ref
			}
			if name == "" {
				name = in.Path
				if rel, err := filepath.Rel(p.Recipe.Dir, in.Path); err == nil {
					name = filepath.ToSlash(rel)
				}
			}
			if !seenInput[name] {
				seenInput[name] = true
				inputs = append(inputs, name)
			}
			edges = append(edges, edge{name, st.Address, ""})
		}
	}
	sort.Strings(inputs)
	seen := map[edge]bool{}
	var unique []edge
	for _, e := range edges {
		if !seen[e] {
			seen[e] = true
			unique = append(unique, e)
		}
	}
	return stages, inputs, unique
}

// DOTQuote quotes s as a DOT string ID. Backslashes are doubled (DOT
// would otherwise read \n or \l in labels as escapes) and quotes escaped,
// so instance keys such as ["k1=0.9"] survive intact.
func DOTQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`)
	return `"` + r.Replace(s) + `"`
}

// WriteDOT writes the plan as a Graphviz digraph: stages as boxes,
// external inputs as notes, edges labelled with the output read.
func (p *Plan) WriteDOT(w io.Writer) error {
	stages, inputs, edges := p.graphParts()
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n  rankdir=LR;\n  node [shape=box];\n", DOTQuote(filepath.Base(p.Recipe.Path)))
	for _, in := range inputs {
		fmt.Fprintf(&b, "  %s [shape=note];\n", DOTQuote(in))
	}
	for _, s := range stages {
		fmt.Fprintf(&b, "  %s;\n", DOTQuote(s))
	}
	for _, e := range edges {
		if e.label != "" {
			fmt.Fprintf(&b, "  %s -> %s [label=%s];\n", DOTQuote(e.from), DOTQuote(e.to), DOTQuote(e.label))
		} else {
			fmt.Fprintf(&b, "  %s -> %s;\n", DOTQuote(e.from), DOTQuote(e.to))
		}
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// MermaidLabel escapes s for a quoted Mermaid label: quotes and the
// characters Mermaid reads as markup become entity codes.
func MermaidLabel(s string) string {
	r := strings.NewReplacer(`"`, "#quot;", "<", "#lt;", ">", "#gt;", "\n", " ")
	return `"` + r.Replace(s) + `"`
}

// WriteMermaid writes the plan as a Mermaid flowchart. Node IDs are
// generated (s0, s1, i0 …) since addresses may contain any character;
// addresses appear only in escaped labels.
func (p *Plan) WriteMermaid(w io.Writer) error {
	stages, inputs, edges := p.graphParts()
	ids := map[string]string{}
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	for i, in := range inputs {
		ids[in] = fmt.Sprintf("i%d", i)
		fmt.Fprintf(&b, "  %s[/%s/]\n", ids[in], MermaidLabel(in))
	}
	for i, s := range stages {
		ids[s] = fmt.Sprintf("s%d", i)
		fmt.Fprintf(&b, "  %s[%s]\n", ids[s], MermaidLabel(s))
	}
	for _, e := range edges {
		if e.label != "" {
			fmt.Fprintf(&b, "  %s -->|%s| %s\n", ids[e.from], MermaidLabel(e.label), ids[e.to])
		} else {
			fmt.Fprintf(&b, "  %s --> %s\n", ids[e.from], ids[e.to])
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
