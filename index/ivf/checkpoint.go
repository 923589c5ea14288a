package ivf

import (
	"fmt"

	"github.com/irflow/irflow/index/internal/stepckpt"
)

// Resumable builds. With Options.CheckpointDir set (the stage's checkpoint
// directory), Build commits each finished step there through
// index/internal/stepckpt (train/checkpoint's verified step directories,
// a build.json that makes a checkpoint of another build be discarded), and
// a killed build resumes after its last committed step with the same bytes
// as an uninterrupted one. Training steps, in order: each OPQ alternation
// (rotation.bin, opqcodebooks.bin), the coarse k-means's seeding and each
// of its Lloyd rounds (centroids.bin), each product-quantiser sub-space
// (codebooks.bin so far); then each encoding block of blockRows vectors
// (lists.bin, int32; codes.bin, M bytes each).

// checkpointFormat changes whenever what a step holds changes.
const checkpointFormat = 2 // 2: with Format 2 (dot lists trained by inner product)

// blockRows is the number of vectors assigned and encoded together: the
// unit of the encoding checkpoint (results do not depend on it).
const blockRows = 8192

// Parts of a checkpoint step.
const (
	ckptRotation     = "rotation.bin"
	ckptOPQCodebooks = "opqcodebooks.bin"
	ckptCentroids    = "centroids.bin"
	ckptCodebooks    = "codebooks.bin"
	ckptLists        = "lists.bin"
	ckptCodes        = "codes.bin"
)

// buildID is build.json.
type buildID struct {
	Format     int    `json:"format"`
	Method     string `json:"method"`
	NLists     int    `json:"n_lists"`
	M          int    `json:"m"`
	OPQ        bool   `json:"opq"`
	TrainSize  int    `json:"train_size"`
	Iterations int    `json:"iterations"`
	Seed       uint64 `json:"seed"`
	BlockRows  int    `json:"block_rows"`
	NumDocs    int    `json:"num_docs"`
	Dim        int    `json:"dim"`
	Similarity string `json:"similarity"`
	Vectors    string `json:"vectors_sha256"`
}

// steps counts the training steps of each phase.
type steps struct{ opq, coarse, pq int }

func planSteps(o Options) steps {
	var s steps
	if o.OPQ {
		s.opq = opqAlternations
	}
	if o.Method != MethodPQ {
		s.coarse = 1 + o.Iterations // seeding, then the rounds
	}
	if o.Method != MethodIVF {
		s.pq = o.M
	}
	return s
}

func (s steps) total() int { return s.opq + s.coarse + s.pq }

// describe names training step i (1-based) for log lines.
func (s steps) describe(i int) string {
	switch {
	case i <= s.opq:
		return fmt.Sprintf("OPQ alternation %d of %d", i, s.opq)
	case i == s.opq+1 && s.coarse > 0:
		return "k-means seeding"
	case i <= s.opq+s.coarse:
		return fmt.Sprintf("k-means round %d of %d", i-s.opq-1, s.coarse-1)
	}
	return fmt.Sprintf("product quantiser sub-space %d of %d", i-s.opq-s.coarse, s.pq)
}

// trainState is what the training has produced after Step steps.
type trainState struct {
	Step                                         int
	Rotation, OPQCodebooks, Centroids, Codebooks []float32
}

func loadTrain(ck *stepckpt.Store) (trainState, error) {
	step, parts, err := ck.State()
	return trainState{Step: step, Rotation: parts[ckptRotation], OPQCodebooks: parts[ckptOPQCodebooks],
		Centroids: parts[ckptCentroids], Codebooks: parts[ckptCodebooks]}, err
}

func saveTrain(ck *stepckpt.Store, sp steps, st trainState) error {
	return ck.SaveState(st.Step, sp.describe(st.Step), map[string][]float32{ckptRotation: st.Rotation,
		ckptOPQCodebooks: st.OPQCodebooks, ckptCentroids: st.Centroids, ckptCodebooks: st.Codebooks})
}

// loadBlock reads committed encoding block b into lists and codes (nil
// when the method has none); ok is false when b is not committed.
func loadBlock(ck *stepckpt.Store, b int, lists []int32, codes []byte) (ok bool, err error) {
	parts := map[string][]byte{}
	var raw []byte
	if lists != nil {
		raw = make([]byte, 4*len(lists))
		parts[ckptLists] = raw
	}
	if codes != nil {
		parts[ckptCodes] = codes
	}
	if ok, err = ck.LoadBlock(b, parts); ok && lists != nil {
		stepckpt.PutI32s(lists, raw)
	}
	return ok, err
}

func saveBlock(ck *stepckpt.Store, b, nblocks int, lists []int32, codes []byte) error {
	parts := map[string][]byte{}
	if lists != nil {
		parts[ckptLists] = stepckpt.I32Bytes(lists)
	}
	if codes != nil {
		parts[ckptCodes] = codes
	}
	return ck.SaveBlock(b, nblocks, parts)
}
