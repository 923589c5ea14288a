package tokenizer

import "sort"

// pieceTrie finds the longest vocabulary piece that prefixes a word in one
// walk over its bytes, where WordPiece as HF writes it tries every shorter
// end with a hash lookup each. Nodes are stored flat; edges of a node are
// sorted by byte; nodes with many edges also get a direct table.
type pieceTrie struct {
	first  []int32 // node → its first edge; first[node+1] ends them
	labels []byte  // edge → byte
	child  []int32 // edge → node
	id     []int32 // node → token id ending there, or -1
	dense  []int32 // node → its row in table, or -1
	table  []int32 // rows of 256 children (-1 if none) for dense nodes
}

// denseFanout is the number of edges from which a node gets a table row.
const denseFanout = 12

// buildTrie indexes pieces (text → id); empty texts are skipped.
func buildTrie(pieces map[string]int) *pieceTrie {
	// A node-per-struct tree first, flattened breadth-first below.
	type edge struct {
		b    byte
		node int32
	}
	type node struct {
		edges []edge
		id    int32
	}
	nodes := []node{{id: -1}}
	for text, id := range pieces {
		n := int32(0)
		for i := 0; i < len(text); i++ {
			next := int32(-1)
			for _, e := range nodes[n].edges {
				if e.b == text[i] {
					next = e.node
					break
				}
			}
			if next < 0 {
				next = int32(len(nodes))
				nodes = append(nodes, node{id: -1})
				nodes[n].edges = append(nodes[n].edges, edge{text[i], next})
			}
			n = next
		}
		if len(text) > 0 {
			nodes[n].id = int32(id)
		}
	}
	t := &pieceTrie{
		first:  make([]int32, 0, len(nodes)+1),
		labels: make([]byte, 0, len(nodes)),
		child:  make([]int32, 0, len(nodes)),
		id:     make([]int32, 0, len(nodes)),
	}
	// Breadth-first renumbering keeps each node's edges contiguous.
	order := []int32{0}
	newIndex := make([]int32, len(nodes))
	for k := 0; k < len(order); k++ {
		old := order[k]
		es := nodes[old].edges
		sort.Slice(es, func(i, j int) bool { return es[i].b < es[j].b })
		for _, e := range es {
			newIndex[e.node] = int32(len(order))
			order = append(order, e.node)
		}
	}
	for _, old := range order {
		t.first = append(t.first, int32(len(t.labels)))
		t.id = append(t.id, nodes[old].id)
		for _, e := range nodes[old].edges {
			t.labels = append(t.labels, e.b)
			t.child = append(t.child, newIndex[e.node])
		}
	}
	t.first = append(t.first, int32(len(t.labels)))
	t.dense = make([]int32, len(t.id))
	for n := range t.dense {
		t.dense[n] = -1
		lo, hi := t.first[n], t.first[n+1]
		if hi-lo < denseFanout && n != 0 {
			continue
		}
		row := int32(len(t.table) / 256)
		for b := 0; b < 256; b++ {
			t.table = append(t.table, -1)
		}
		for e := lo; e < hi; e++ {
			t.table[int(row)*256+int(t.labels[e])] = t.child[e]
		}
		t.dense[n] = row
	}
	return t
}

// step returns the child of node n along byte b, or -1.
func (t *pieceTrie) step(n int32, b byte) int32 {
	if row := t.dense[n]; row >= 0 {
		return t.table[int(row)<<8|int(b)]
	}
	for e, end := t.first[n], t.first[n+1]; e < end && t.labels[e] <= b; e++ {
		if t.labels[e] == b {
			return t.child[e]
		}
	}
	return -1
}

// longest returns the id and byte length of the longest piece prefixing
// s, or length 0. Pieces are whole UTF-8 strings and s is valid UTF-8, so
// the match ends on a character boundary.
func (t *pieceTrie) longest(s []byte) (id int, n int) {
	if len(s) == 0 {
		return 0, 0
	}
	node := t.step(0, s[0])
	for i := 1; node >= 0; i++ {
		if t.id[node] >= 0 {
			id, n = int(t.id[node]), i
		}
		if i == len(s) {
			break
		}
		node = t.step(node, s[i])
	}
	return id, n
}
