// Package exact holds what irflow's exhaustive vector searches (dense and
// multi-vector) share beyond the top-k heap: the scheduling of (query
// batch × document shard) tasks over threads and the merge of the shards'
// results.
package exact

import (
	"slices"

	"github.com/irflow/irflow/search/internal/topk"
)

// Best merges entry lists (from disjoint document shards) and returns
// the k best, best first.
func Best(k int, lists ...[]topk.Entry) []topk.Entry {
	if len(lists) == 1 {
		return lists[0][:min(k, len(lists[0]))] // already sorted
	}
	var all []topk.Entry
	for _, l := range lists {
		all = append(all, l...)
	}
	slices.SortFunc(all, func(a, b topk.Entry) int {
		if a.Better(b) {
			return -1
		}
		if b.Better(a) {
			return 1
		}
		return 0
	})
	return all[:min(k, len(all))]
}
