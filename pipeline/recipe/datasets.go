package recipe

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/irflow/irflow/ir/datasets"
	"github.com/irflow/irflow/pipeline/stage"
)

// attrDataset names a catalogued dataset in a collection block:
//
//	collection "train" { dataset = "beir/scifact/train" }
//
// gives collection.train.docs, .corpus, .queries, .qrels and
// .runs.<system>, pinned to the catalog's sha256.
const attrDataset = "dataset"

// datasetRoles are the files a dataset collection has, in order; runs is
// an object of run files by system (empty when the catalog has none).
var datasetRoles = []string{datasets.RoleDocs, datasets.RoleCorpus, datasets.RoleQueries, datasets.RoleQrels, datasets.RoleRuns}

// roleFormats are the formats of a dataset's files, so format checks hold
// for them as for named collection files.
var roleFormats = map[string]string{
	datasets.RoleDocs:    stage.FormatDocs,
	datasets.RoleCorpus:  stage.FormatDocs,
	datasets.RoleQueries: stage.FormatQueries,
	datasets.RoleQrels:   stage.FormatQrels,
	datasets.RoleRuns:    stage.FormatRun,
}

// datasetSource is the dataset a collection block names.
type datasetSource struct {
	name string
	d    *datasets.Dataset // nil when the name is not catalogued
	rng  hcl.Range         // the dataset attribute's value
	// broken: the block has errors (unknown dataset, conflicting files),
	// so its dataset is not resolved and its files stay unknown values.
	broken bool
}

// has says whether field is one of the files the dataset provides.
func (ds *datasetSource) has(field string) bool {
	return ds != nil && slices.Contains(datasetRoles, field)
}

// declareDatasets reads the dataset attribute of every collection block.
// Like a stage's method it may use only literals and variables, because
// it decides which files the block has, and so which references to it
// are valid, before anything else is evaluated.
func (l *loader) declareDatasets() {
	for _, name := range sortedKeys(l.inputs[BlockCollection]) {
		ib := l.inputs[BlockCollection][name]
		a := ib.attrs[attrDataset]
		if a == nil {
			continue
		}
		ds := &datasetSource{rng: a.Expr.Range()}
		ib.dataset = ds
		ds.name, ds.broken = l.datasetName(name, a)
		if !ds.broken {
			d, ok := datasets.Lookup(ds.name)
			if !ok {
				detail := fmt.Sprintf("There is no dataset %q in the catalog.", ds.name)
				if s := datasets.Suggest(ds.name); s != "" {
					detail += fmt.Sprintf(" Did you mean %q?", s)
				}
				detail += fmt.Sprintf(" Catalogued datasets: %s (irflow datasets list).", strings.Join(datasets.Names(), ", "))
				l.errorf(ds.rng.Ptr(), "Unknown dataset", "%s", detail)
				ds.broken = true
			}
			ds.d = d
		}
		// The dataset's files come first; other attributes add files of
		// their own, but may not replace one of the dataset's.
		files := append([]string(nil), datasetRoles...)
		for _, f := range ib.files {
			if !ds.has(f) {
				files = append(files, f)
				continue
			}
			what := fmt.Sprintf("its %s file", f)
			if f == datasets.RoleRuns {
				what = "its runs"
			}
			l.errorf(ib.attrs[f].NameRange.Ptr(), "Conflicting collection file",
				"collection %q takes %s from dataset %s, so it cannot also name %s = …. Remove the attribute, or remove dataset and name every file yourself.",
				name, what, QuoteString(ds.name), f)
			delete(ib.attrs, f)
			ds.broken = true
		}
		ib.files = files
	}
}

// datasetName evaluates a dataset attribute; broken reports an error.
func (l *loader) datasetName(block string, a *hcl.Attribute) (name string, broken bool) {
	for _, tr := range a.Expr.Variables() {
		if tr.RootName() != "var" {
			l.errorf(tr.SourceRange().Ptr(), "Invalid dataset",
				"The dataset decides which files collection %q has, so it may use only literal values and variables (var.NAME), not %s.", block, tr.RootName())
			return "", true
		}
	}
	if l.checkRefs(a.Expr, refScope{}).HasErrors() {
		return "", true
	}
	v, diags := a.Expr.Value(l.varContext())
	l.add(diags)
	if diags.HasErrors() || !v.IsWhollyKnown() {
		return "", true
	}
	v, _ = v.UnmarkDeep()
	if v.IsNull() || v.Type() != cty.String {
		l.errorf(a.Expr.Range().Ptr(), "Invalid dataset",
			"The dataset of collection %q is a catalogued name such as \"beir/scifact/train\" (a string).", block)
		return "", true
	}
	return v.AsString(), false
}

// checkRun checks the system in a reference collection.NAME.runs.SYSTEM
// against the dataset's catalogued runs.
func (ds *datasetSource) checkRun(tr hcl.Traversal, root, name, field string) hcl.Diagnostics {
	if ds == nil || ds.d == nil || field != datasets.RoleRuns {
		return nil
	}
	sys, rng, ok := attrAt(tr, 3)
	if !ok {
		return nil
	}
	systems := ds.d.Systems()
	if slices.Contains(systems, sys) {
		return nil
	}
	detail := fmt.Sprintf("Dataset %s has no catalogued runs, so %s.%s.runs is empty.", QuoteString(ds.name), root, name)
	if len(systems) > 0 {
		detail = fmt.Sprintf("Dataset %s has no run %q; its runs are: %s.", QuoteString(ds.name), sys, strings.Join(systems, ", "))
		if s := suggest(sys, systems); s != "" {
			detail += fmt.Sprintf(" Did you mean %s.%s.runs.%s?", root, name, s)
		}
	}
	return diag(rng, "Unsupported attribute", "%s", detail)
}

// evalDataset resolves a collection's dataset into local files (through
// Options.Dataset), sets their values, records them as inputs pinned to
// the catalog's sha256 with the formats their roles have, and checks that
// their content is the catalogued one.
func (l *loader) evalDataset(ib *inputBlock, vals map[string]cty.Value) {
	ds := ib.dataset
	if ds == nil || ds.broken || ds.d == nil {
		return
	}
	typ, name := ib.block.Type, ib.block.Labels[0]
	p, done := l.datasetPaths[ds.name]
	if !done {
		var err error
		if l.opts.Dataset == nil {
			l.errorf(ds.rng.Ptr(), "Datasets not supported here",
				"%s.%s: dataset %s cannot be resolved by this command.", typ, name, QuoteString(ds.name))
		} else if p, err = l.opts.Dataset(ds.name); err != nil {
			l.errorf(ds.rng.Ptr(), "Cannot resolve dataset", "%s.%s: %s.", typ, name, strings.TrimSuffix(err.Error(), "."))
			p = nil
		}
		l.datasetPaths[ds.name] = p
	}
	if p == nil {
		return
	}
	runs := map[string]cty.Value{}
	for _, r := range ds.d.Roles() {
		path, address := "", typ+"."+name+"."+r.Role
		switch r.Role {
		case datasets.RoleDocs:
			path = p.Docs
		case datasets.RoleCorpus:
			path = p.Corpus
		case datasets.RoleQueries:
			path = p.Queries
		case datasets.RoleQrels:
			path = p.Qrels
		case datasets.RoleRuns:
			path = p.Runs[r.System]
			address += "." + r.System
		}
		if path == "" {
			l.errorf(ds.rng.Ptr(), "Cannot resolve dataset", "%s: dataset %s gave no local file for %s.", address, QuoteString(ds.name), r.File.Path)
			continue
		}
		f := &InputFile{Address: address, Path: path, Range: ds.rng, Pin: r.File.SHA256, PinRange: ds.rng, Dataset: ds.name}
		l.r.Inputs = append(l.r.Inputs, f)
		l.noteFormat(path, roleFormats[r.Role], address)
		if r.Role == datasets.RoleRuns {
			runs[r.System] = cty.StringVal(path)
		} else {
			vals[r.Role] = cty.StringVal(path)
		}
		got, err := l.opts.Hasher.Digest(path)
		if err != nil {
			l.errorf(ds.rng.Ptr(), "Cannot read input", "%s: %s.", address, err)
			continue
		}
		if got != f.Pin {
			l.errorf(ds.rng.Ptr(), "Dataset file does not match the catalog",
				"%s (%s) has sha256 %s, but the catalog pins %s for %s in dataset %s: the stored file changed after it was fetched. "+
					"`irflow datasets verify %s` reports it; `irflow datasets fetch %s` replaces it.",
				address, path, got, f.Pin, r.File.Path, QuoteString(ds.name), ds.name, ds.name)
		}
	}
	vals[datasets.RoleRuns] = cty.ObjectVal(runs)
}
