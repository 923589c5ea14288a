package data_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/irflow/irflow/train/data"
)

func batchIDs(t *testing.T, l *data.Loader, n int) ([][]string, []data.Position) {
	t.Helper()
	var ids [][]string
	var pos []data.Position
	for range n {
		b, err := l.Next()
		if err != nil {
			t.Fatal(err)
		}
		var bi []string
		for _, s := range b.Samples {
			bi = append(bi, s.QueryID+":"+strings.Join(s.DocIDs, ","))
		}
		ids = append(ids, bi)
		pos = append(pos, b.Position)
	}
	return ids, pos
}

// TestLoaderEpochs: each epoch visits every query once, in batches of
// batch_size with a short last one; epochs are shuffled differently; two
// loaders with one seed agree; Sequential keeps dataset order.
func TestLoaderEpochs(t *testing.T) {
	ds := fixtureRun(t, data.Random, 0, 2) // 6 queries
	l, err := data.NewLoader(ds, data.LoaderOptions{BatchSize: 4, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	if l.BatchesPerEpoch() != 2 {
		t.Fatalf("%d batches per epoch, want ceil(6/4) = 2", l.BatchesPerEpoch())
	}
	const epochs = 6
	ids, pos := batchIDs(t, l, 2*epochs)
	var orders [][]string
	for e := range epochs {
		if pos[2*e] != (data.Position{Epoch: e, Batch: 0}) || pos[2*e+1] != (data.Position{Epoch: e, Batch: 1}) {
			t.Fatalf("positions %v %v in epoch %d", pos[2*e], pos[2*e+1], e)
		}
		if len(ids[2*e]) != 4 || len(ids[2*e+1]) != 2 {
			t.Fatalf("epoch %d: batches of %d and %d samples, want 4 and 2", e, len(ids[2*e]), len(ids[2*e+1]))
		}
		var order []string
		for _, s := range append(slices.Clone(ids[2*e]), ids[2*e+1]...) {
			order = append(order, strings.SplitN(s, ":", 2)[0])
		}
		sorted := slices.Sorted(slices.Values(order))
		if !reflect.DeepEqual(sorted, ds.QueryIDs()) {
			t.Fatalf("epoch %d visits %v, want each of %v once", e, order, ds.QueryIDs())
		}
		orders = append(orders, order)
	}
	shuffled := 0
	for _, o := range orders {
		if !reflect.DeepEqual(o, ds.QueryIDs()) {
			shuffled++
		}
	}
	if shuffled == 0 || reflect.DeepEqual(orders[0], orders[1]) && reflect.DeepEqual(orders[1], orders[2]) {
		t.Fatalf("epochs not shuffled: %v", orders)
	}
	l2, _ := data.NewLoader(ds, data.LoaderOptions{BatchSize: 4, Seed: 11})
	if again, _ := batchIDs(t, l2, 2*epochs); !reflect.DeepEqual(again, ids) {
		t.Fatal("two loaders with the same seed disagree")
	}
	l3, _ := data.NewLoader(ds, data.LoaderOptions{BatchSize: 4, Seed: 12})
	if other, _ := batchIDs(t, l3, 2*epochs); reflect.DeepEqual(other, ids) {
		t.Fatal("another seed gives the same batches")
	}
	seq, _ := data.NewLoader(ds, data.LoaderOptions{BatchSize: 4, Sequential: true})
	sids, _ := batchIDs(t, seq, 2)
	var order []string
	for _, s := range append(sids[0], sids[1]...) {
		order = append(order, strings.SplitN(s, ":", 2)[0])
	}
	if !reflect.DeepEqual(order, ds.QueryIDs()) {
		t.Fatalf("sequential order %v, want %v", order, ds.QueryIDs())
	}
}

// TestLoaderSeekResumes: a loader that stops at any batch, saves its
// Position as JSON and is rebuilt and Seeked there yields exactly the
// batches (queries and randomly drawn documents) of one that never
// stopped.
func TestLoaderSeekResumes(t *testing.T) {
	for _, s := range []data.Strategy{data.Random, data.LogRandom, data.SingleRelevant} {
		t.Run(string(s), func(t *testing.T) {
			ds := fixtureRun(t, s, 0, 2)
			opts := data.LoaderOptions{BatchSize: 4, Seed: 5}
			full, _ := data.NewLoader(ds, opts)
			want, _ := batchIDs(t, full, 9)
			for stop := range 9 {
				l, _ := data.NewLoader(ds, opts)
				batchIDs(t, l, stop)
				saved, err := json.Marshal(l.Position())
				if err != nil {
					t.Fatal(err)
				}
				var pos data.Position
				if err := json.Unmarshal(saved, &pos); err != nil {
					t.Fatal(err)
				}
				resumed, _ := data.NewLoader(ds, opts)
				if err := resumed.Seek(pos); err != nil {
					t.Fatal(err)
				}
				got, _ := batchIDs(t, resumed, 9-stop)
				if !reflect.DeepEqual(got, want[stop:]) {
					t.Fatalf("resumed at %s (%s): got %v, want %v", pos, saved, got, want[stop:])
				}
			}
		})
	}
}

func TestLoaderErrors(t *testing.T) {
	all := fixtureRun(t, data.Top, 0, 0) // query 4 has 2 documents, the others 6 or 7
	l, err := data.NewLoader(all, data.LoaderOptions{BatchSize: 6, Sequential: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = l.Next()
	if err == nil || !strings.Contains(err.Error(), "same number") || !strings.Contains(err.Error(), "epoch 0 batch 0") {
		t.Fatalf("mixed document counts in a batch: got %v", err)
	}
	if l.Position() != (data.Position{}) {
		t.Fatalf("a failed Next moved the loader to %v", l.Position())
	}
	if _, err := data.NewLoader(all, data.LoaderOptions{}); err == nil || !strings.Contains(err.Error(), "batch_size") {
		t.Fatalf("batch size 0: got %v", err)
	}
	for _, p := range []data.Position{{Epoch: -1}, {Batch: -1}, {Batch: 1}} {
		if err := l.Seek(p); err == nil {
			t.Errorf("Seek(%v) accepted; an epoch has 1 batch", p)
		}
	}
	one, _ := data.NewLoader(all, data.LoaderOptions{BatchSize: 1, Sequential: true})
	for range all.Len() {
		if _, err := one.Next(); err != nil {
			t.Fatalf("batch size 1 never mixes lengths: %v", err)
		}
	}
	if one.Position() != (data.Position{Epoch: 1}) {
		t.Fatalf("after a whole epoch at %v, want epoch 1 batch 0", one.Position())
	}
}
