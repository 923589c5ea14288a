// Package data gives fit its training samples with Lightning IR 0.0.6's
// semantics: ranked lists sampled from a run (RunDataset) or fixed tuples
// of documents (TupleDataset), each turned into a Sample of one query, its
// documents and their targets, and a Loader that batches them in a seeded,
// resumable order.
//
// Lightning IR reads everything through ir_datasets and pandas; here the
// same files are read with irflow's own readers (ir/collection for queries
// and documents, TREC runs and qrels), only the documents the samples need
// are kept in memory, and the rules Lightning IR's loader applies are
// reproduced and checked against it (scripts/oracle/train/data.py).
//
// Where Lightning IR draws from numpy's global random state, this package
// draws from a generator seeded by (seed, epoch, query), so that a resumed
// fit sees exactly the samples an uninterrupted one would have seen.
package data
