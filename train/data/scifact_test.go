package data_test

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/irflow/irflow/internal/testenv"
	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/trec"
	"github.com/irflow/irflow/train/data"
)

// TestSciFactTrain loads SciFact's training queries with a run made from
// their qrels plus 30 pseudo-random other documents per query (relevant
// ones placed at hash-chosen ranks), samples single_relevant groups of 8
// with relevance targets, and checks one full shuffled epoch against the
// original files: every judged query once, its first document relevant
// with target = its grade, the 7 others unjudged with target 0, and every
// text as in queries.train.tsv and docs.tsv.
func TestSciFactTrain(t *testing.T) {
	start := time.Now()
	dir := testenv.Collection(t, "scifact")
	queries, docsPath, qrelsPath := filepath.Join(dir, "queries.train.tsv"), filepath.Join(dir, "docs.tsv"), filepath.Join(dir, "qrels.train.txt")
	qrels, err := trec.ReadQrelsFile(qrelsPath)
	if err != nil {
		t.Fatal(err)
	}
	allDocs, err := collection.ReadDocs(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	docText := map[string]string{}
	for _, d := range allDocs {
		docText[d.ID] = d.Text
	}
	qs, err := collection.ReadQueriesFile(queries)
	if err != nil {
		t.Fatal(err)
	}
	queryText := map[string]string{}
	for _, q := range qs {
		queryText[q.ID] = q.Text
	}

	hash := func(parts ...string) int {
		h := fnv.New32a()
		h.Write([]byte(strings.Join(parts, "/")))
		return int(h.Sum32() & 0x7fffffff)
	}
	var run strings.Builder
	const others = 30
	judgedQueries := 0
	for _, qid := range qrels.QueryIDs() {
		if _, ok := queryText[qid]; !ok {
			continue
		}
		judgedQueries++
		list := []string{}
		for i := 0; len(list) < others; i++ {
			d := allDocs[hash(qid, fmt.Sprint(i))%len(allDocs)].ID
			if _, judged := qrels[qid][d]; !judged && !slices.Contains(list, d) {
				list = append(list, d)
			}
		}
		for d := range qrels[qid] {
			at := hash(qid, d) % (len(list) + 1)
			list = append(list[:at], append([]string{d}, list[at:]...)...)
		}
		for r, d := range list {
			fmt.Fprintf(&run, "%s Q0 %s %d %d made\n", qid, d, r+1, 100-r)
		}
	}
	runPath := filepath.Join(t.TempDir(), "scifact-train.run")
	if err := os.WriteFile(runPath, []byte(run.String()), 0o644); err != nil {
		t.Fatal(err)
	}

	ds, err := data.LoadRun(data.RunConfig{Run: runPath, Queries: queries, Docs: docsPath, Qrels: qrelsPath,
		Depth: 100, SampleSize: 8, SamplingStrategy: data.SingleRelevant, Targets: data.Relevance})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != judgedQueries || ds.Dropped() != (data.DropCounts{}) {
		t.Fatalf("%d queries (dropped %+v), want all %d judged training queries", ds.Len(), ds.Dropped(), judgedQueries)
	}
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 32, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for range l.BatchesPerEpoch() {
		b, err := l.Next()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range b.Samples {
			if seen[s.QueryID] {
				t.Fatalf("query %s twice in one epoch", s.QueryID)
			}
			seen[s.QueryID] = true
			if s.Query != queryText[s.QueryID] || len(s.DocIDs) != 8 || len(s.Targets) != 8 {
				t.Fatalf("query %s: %q, %d docs, %d targets", s.QueryID, s.Query, len(s.DocIDs), len(s.Targets))
			}
			for j, d := range s.DocIDs {
				g, judged := qrels[s.QueryID][d]
				if (j == 0) != (judged && g > 0) || s.Targets[j] != float32(g) {
					t.Fatalf("query %s: doc %d %s judged %v grade %d, target %v", s.QueryID, j, d, judged, g, s.Targets[j])
				}
				if s.Docs[j] != docText[d] {
					t.Fatalf("query %s: text of %s differs from docs.tsv", s.QueryID, d)
				}
			}
		}
	}
	if len(seen) != judgedQueries || l.Position() != (data.Position{Epoch: 1}) {
		t.Fatalf("epoch saw %d of %d queries, ends at %v", len(seen), judgedQueries, l.Position())
	}
	t.Logf("%d queries, %d documents kept of %d, one epoch of %d batches in %v",
		ds.Len(), ds.NumDocs(), len(allDocs), l.BatchesPerEpoch(), time.Since(start).Round(time.Millisecond))
}
