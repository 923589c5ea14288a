package fit

import (
	"encoding/json"
	"fmt"

	"github.com/irflow/irflow/pipeline/stage"
	"github.com/irflow/irflow/train/data"
	"github.com/irflow/irflow/train/trainer"
)

// openData reads the training samples the recipe names and returns them as
// the trainer's resumable batch stream, with the number of samples.
func openData(job *stage.Job) (trainer.Batches, int, error) {
	var ds data.Dataset
	if p := job.String("train_tuples"); p != "" {
		t, err := data.LoadTuples(data.TuplesConfig{
			Tuples: p, Queries: job.String("train_queries"), Docs: job.String("docs"),
			Targets: data.TupleTargets(orDefault(job.String("targets"), "order")),
			NumDocs: max(0, job.Int("num_docs")),
		})
		if err != nil {
			return nil, 0, err
		}
		ds = t
	} else {
		targets := job.String("targets")
		if targets == "" {
			targets = "relevance"
		}
		r, err := data.LoadRun(data.RunConfig{
			Run: job.String("train_run"), Queries: job.String("train_queries"), Docs: job.String("docs"),
			Qrels: job.String("train_qrels"), Depth: job.Int("depth"), SampleSize: job.Int("sample_size"),
			SamplingStrategy: data.Strategy(job.String("sampling_strategy")),
			Targets:          data.RunTargets(targets), NormalizeTargets: job.Bool("normalize_targets"),
			DropWithoutRelevant: job.Bool("drop_without_relevant"),
		})
		if err != nil {
			return nil, 0, err
		}
		if job.Log != nil {
			job.Log.Info("run samples", "queries", r.Len(), "dropped", fmt.Sprintf("%+v", r.Dropped()))
		}
		ds = r
	}
	l, err := data.NewLoader(ds, data.LoaderOptions{
		BatchSize: job.Int("batch_size"), Seed: uint64(job.Int("seed")), Sequential: !job.Bool("shuffle"),
	})
	if err != nil {
		return nil, 0, err
	}
	return &batches{l: l}, ds.Len(), nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// batches adapts a data.Loader to trainer.Batches.
type batches struct{ l *data.Loader }

func (b *batches) Next() (trainer.Batch, error) {
	db, err := b.l.Next()
	if err != nil {
		return trainer.Batch{}, err
	}
	var out trainer.Batch
	for _, s := range db.Samples {
		if len(s.Targets) != len(s.Docs) {
			return out, fmt.Errorf("sample of query %s has %d targets for %d documents", s.QueryID, len(s.Targets), len(s.Docs))
		}
		out.Queries = append(out.Queries, s.Query)
		out.Docs = append(out.Docs, s.Docs)
		out.Targets = append(out.Targets, s.Targets)
	}
	for i, d := range out.Docs {
		if len(d) != len(out.Docs[0]) {
			return out, fmt.Errorf("batch at %s: query %s has %d documents, query %s has %d; set sample_size (or num_docs) so that every query has the same number",
				db.Position, db.Samples[i].QueryID, len(d), db.Samples[0].QueryID, len(out.Docs[0]))
		}
	}
	return out, nil
}

func (b *batches) Position() json.RawMessage {
	j, _ := json.Marshal(b.l.Position())
	return j
}

func (b *batches) Seek(pos json.RawMessage) error {
	var p data.Position
	if err := json.Unmarshal(pos, &p); err != nil {
		return err
	}
	return b.l.Seek(p)
}

func (b *batches) Epoch() int { return b.l.Position().Epoch }
