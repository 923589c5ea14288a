package multivector

// DocAggregate and QueryAggregate lend this package's reductions to
// search/plaid, which re-scores its candidates with exactly the
// arithmetic of exact search (so that, with every document a candidate,
// both return the same hits and scores).

// DocAggregate reduces a document's dot products, tile rows a..e-1 (one
// per stored vector; ldo apart), into per, one value per query row, by
// the index's doc aggregation (max, sum, mean; not l2 similarity).
func DocAggregate(per, tile []float32, ldo, a, e int, how string) { docAgg(per, tile, ldo, a, e, how) }

// QueryAggregate reduces the per-vector values of a query's scored
// vectors (at least one) by the query aggregation.
func QueryAggregate(v []float32, how string) float32 { return queryAgg(v, how) }
