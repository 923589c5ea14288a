package tokenizer

// PadBatch lays encodings out as a row-major batch × seqLen matrix, padded
// on the right with padID (type id 0, attention 0) to the longest encoding,
// rounded up to a multiple of multipleOf when it is above 1 (Lightning IR
// pads to a multiple of 8).
func PadBatch(encs []Encoding, padID int, multipleOf int) (ids, types, mask []int64, batch, seqLen int) {
	batch = len(encs)
	for _, e := range encs {
		seqLen = max(seqLen, len(e.IDs))
	}
	if multipleOf > 1 && seqLen%multipleOf != 0 {
		seqLen += multipleOf - seqLen%multipleOf
	}
	ids = make([]int64, batch*seqLen)
	types = make([]int64, batch*seqLen)
	mask = make([]int64, batch*seqLen)
	for i, e := range encs {
		row := i * seqLen
		for j := 0; j < seqLen; j++ {
			if j < len(e.IDs) {
				ids[row+j] = int64(e.IDs[j])
				types[row+j] = int64(e.TypeIDs[j])
				mask[row+j] = int64(e.AttentionMask[j])
			} else {
				ids[row+j] = int64(padID)
			}
		}
	}
	return ids, types, mask, batch, seqLen
}
