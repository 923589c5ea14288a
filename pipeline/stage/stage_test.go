package stage_test

import (
	"compress/gzip"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/irflow/irflow/pipeline/stage"
)

func init() {
	stage.RegisterComponent(stage.Component{Name: "test/lib", Version: "7", Doc: "a library"})
	stage.RegisterFormat(stage.Format{Name: "test/index", Version: "3", Doc: "a test index"})
}

func TestCheckValue(t *testing.T) {
	k := stage.Param{Name: "k", Type: stage.Number, Integer: true, Min: stage.Above(0)}
	b := stage.Param{Name: "b", Type: stage.Number, Min: stage.AtLeast(0), Max: stage.Below(1)}
	layout := stage.Param{Name: "layout", Type: stage.String, Enum: []string{"flat", "multifield"}}
	list := stage.Param{Name: "heads", Type: stage.StringList, Enum: []string{"dpr", "col"}}
	even := stage.Param{Name: "n", Type: stage.Number, Check: func(v any) error {
		if int(v.(float64))%2 != 0 {
			return errors.New("n must be even")
		}
		return nil
	}}
	for _, tc := range []struct {
		p     stage.Param
		v     any
		want  string // "" = valid
		index int    // element at fault, -1 = none
	}{
		{k, 1.0, "", -1},
		{k, 0.0, "k = 0 is out of range: want integer > 0", -1},
		{k, -5.0, "k = -5 is out of range: want integer > 0", -1},
		{k, 2.5, "k = 2.5 is out of range", -1},
		{k, math.Inf(1), "k = +Inf is out of range", -1},
		{b, 0.0, "", -1},
		{b, 0.999, "", -1},
		{b, 1.0, "b = 1 is out of range: want number ≥ 0 and < 1", -1},
		{b, math.NaN(), "b = NaN is out of range", -1},
		{layout, "flat", "", -1},
		{layout, "Flat", `"Flat" is not a valid layout: want one of "flat", "multifield"`, -1},
		{list, []string{"dpr", "col"}, "", -1},
		{list, []string{"dpr", "colbert"}, `"colbert" is not a valid heads`, 1},
		{even, 4.0, "", -1},
		{even, 3.0, "n must be even", -1},
	} {
		err := stage.CheckValue(tc.p, tc.v)
		if tc.want == "" {
			if err != nil {
				t.Errorf("%s = %v: %v", tc.p.Name, tc.v, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s = %v: err %v, want %q", tc.p.Name, tc.v, err, tc.want)
			continue
		}
		var el *stage.ElementError
		if got := errors.As(err, &el); got != (tc.index >= 0) || got && el.Index != tc.index {
			t.Errorf("%s = %v: element error %+v, want index %d", tc.p.Name, tc.v, el, tc.index)
		}
	}
}

func TestConstraint(t *testing.T) {
	for _, tc := range []struct {
		p    stage.Param
		want string
	}{
		{stage.Param{Type: stage.Number, Integer: true, Min: stage.Above(0)}, "integer > 0"},
		{stage.Param{Type: stage.Number, Min: stage.AtLeast(0), Max: stage.AtMost(1)}, "number ≥ 0 and ≤ 1"},
		{stage.Param{Type: stage.Number, Max: stage.Below(0.5)}, "number < 0.5"},
		{stage.Param{Type: stage.Number, Integer: true}, "integer"},
		{stage.Param{Type: stage.String, Enum: []string{"", "a"}}, `one of "", "a"`},
		{stage.Param{Type: stage.Input, Accepts: []string{"run/trec", "qrels"}}, "run/trec or qrels"},
		{stage.Param{Type: stage.Number}, ""},
	} {
		if got := tc.p.Constraint(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.p, got, tc.want)
		}
	}
}

// TestValidate: declarations that cannot work are refused when a kind is
// registered, with a message naming the kind and parameter.
func TestValidate(t *testing.T) {
	good := func() *stage.Kind {
		return &stage.Kind{Block: "b", Method: "m", Version: 1, Uses: []string{"test/lib"},
			Params: []stage.Param{
				{Name: "in", Type: stage.Input, Accepts: []string{stage.FormatRun, "test/index"}},
				{Name: "k", Type: stage.Number, Default: 10, Integer: true, Min: stage.Above(0)},
				{Name: "mode", Type: stage.String, Default: "a", Enum: []string{"a", "b"}},
			},
			Outputs: []stage.Output{{Name: "out", Path: "out/", Format: "test/index"}},
		}
	}
	if err := stage.Validate(good()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		change func(k *stage.Kind)
		want   string
	}{
		{func(k *stage.Kind) { k.Params[1].Accepts = []string{"run/trec"} }, `parameter "k": Accepts is for input parameters`},
		{func(k *stage.Kind) { k.Params[0].Accepts = []string{"run/tsv"} }, `accepts format "run/tsv", which is not registered`},
		{func(k *stage.Kind) { k.Params[1].Enum = []string{"1"} }, `parameter "k": Enum is for string`},
		{func(k *stage.Kind) { k.Params[2].Min = stage.AtLeast(0) }, `parameter "mode": Min, Max and Integer are for number`},
		{func(k *stage.Kind) { k.Params[1].Max = stage.Below(0) }, `parameter "k": empty range integer > 0 and < 0`},
		{func(k *stage.Kind) { k.Params[1].Default = 0 }, `parameter "k": default 0: k = 0 is out of range`},
		{func(k *stage.Kind) { k.Params[2].Default = "c" }, `parameter "mode": default c: "c" is not a valid mode`},
		{func(k *stage.Kind) { k.Params = append(k.Params, k.Params[0]) }, `parameter "in" declared twice`},
		{func(k *stage.Kind) { k.Outputs = append(k.Outputs, k.Outputs[0]) }, `output "out" declared twice`},
		{func(k *stage.Kind) { k.Outputs[0].Format = "index/nope" }, `output "out" has format "index/nope", which is not registered`},
		{func(k *stage.Kind) { k.Uses = append(k.Uses, "libnope") }, `uses component "libnope", which is not registered`},
	} {
		k := good()
		tc.change(k)
		err := stage.Validate(k)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "stage kind b/m") {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
}

func TestKeyComponents(t *testing.T) {
	k := &stage.Kind{Block: "b", Method: "m", Uses: []string{"test/lib"},
		Outputs: []stage.Output{{Name: "i", Path: "i/", Format: "test/index"}, {Name: "r", Path: "r.trec", Format: stage.FormatRun}, {Name: "x", Path: "x"}}}
	got, err := stage.KeyComponents(k)
	want := map[string]string{"test/lib": "7", "test/index": "3", stage.FormatRun: "1"}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	k.Uses = append(k.Uses, "libnope")
	if _, err := stage.KeyComponents(k); err == nil || !strings.Contains(err.Error(), `component "libnope", which no package registered`) {
		t.Errorf("unregistered component: %v", err)
	}
}

func TestRegisterComponentTwice(t *testing.T) {
	stage.RegisterComponent(stage.Component{Name: "test/lib", Version: "7"}) // the same: fine
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `registered with versions "7" and "8"`) {
			t.Errorf("recovered %v", r)
		}
	}()
	stage.RegisterComponent(stage.Component{Name: "test/lib", Version: "8"})
}

// TestSniffFormats: runs and qrels are recognised by their columns, model
// directories by config.json; id<TAB>text files, which could be docs or
// queries, are never claimed.
func TestSniffFormats(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if strings.HasSuffix(name, ".gz") {
			f, _ := os.Create(p)
			zw := gzip.NewWriter(f)
			zw.Write([]byte(content))
			zw.Close()
			f.Close()
			return p
		}
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	for _, tc := range []struct {
		path string
		want []string
	}{
		{write("run.trec", "1 Q0 d1 1 12.5 bm25\n1 Q0 d2 2 11 bm25\n"), []string{stage.FormatRun}},
		{write("run.tsv", "1\tQ0\td1\t1\t12.5\tbm25\n"), []string{stage.FormatRun}},
		{write("run.trec.gz", "\n1 q0 d1 1 -1.5e3 x\n"), []string{stage.FormatRun}},
		{write("qrels.txt", "1 0 d1 1\n1 0 d2 -1\n"), []string{stage.FormatQrels}},
		{write("qrels-q0.txt", "1 Q0 d1 2\n"), []string{stage.FormatQrels}},
		{write("qrels.tsv", "query-id\tcorpus-id\tscore\n1\td1\t1\n"), []string{stage.FormatQrels}},
		{write("queries.tsv", "1\twhat is 3\n2\tQ0 d 1 2 x\n"), nil},
		{write("queries4.tsv", "1\tsolar wind 5\n"), nil},
		{write("docs.jsonl", `{"_id": "d1", "title": "", "text": "1 0 d 1"}`+"\n"), nil},
		{write("mixed.trec", "1 Q0 d1 1 12.5 bm25\n1 0 d1 1\n"), nil},
		{write("empty.txt", ""), nil},
		{write("model/config.json", "{}"), nil},
		{filepath.Join(dir, "model"), []string{stage.FormatModel}},
		{dir, nil},
		{filepath.Join(dir, "missing"), nil},
	} {
		if got := stage.SniffFormats(tc.path); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", filepath.Base(tc.path), got, tc.want)
		}
	}
}

func TestGiven(t *testing.T) {
	p := map[string]any{"empty": "", "path": "/x", "num": 0.0, "nil": nil, "input": struct{}{}}
	for name, want := range map[string]bool{"empty": false, "path": true, "num": true, "nil": false, "input": true, "absent": false} {
		if got := stage.Given(p, name); got != want {
			t.Errorf("Given(%q) = %v, want %v", name, got, want)
		}
	}
}
