package analysis

import "sync"

// classRun starts a run of code points that share a character class.
type classRun struct {
	first rune
	class uint8
}

// classTable maps every code point to its class: ASCII directly, the rest
// through 256-code-point blocks, identical blocks shared.
type classTable struct {
	ascii  [128]uint8
	block  [(maxRune + 1) >> 8]uint16 // code point>>8 -> offset into blocks
	blocks []uint8
}

const maxRune = 0x10FFFF

var classes = sync.OnceValue(buildClassTable)

func buildClassTable() *classTable {
	t := &classTable{}
	var cur [256]uint8
	seen := map[[256]uint8]uint16{}
	run := 0
	for hi := 0; hi < len(t.block); hi++ {
		for lo := 0; lo < 256; lo++ {
			r := rune(hi<<8 | lo)
			for run+1 < len(classRuns) && classRuns[run+1].first <= r {
				run++
			}
			cur[lo] = classRuns[run].class
		}
		off, ok := seen[cur]
		if !ok {
			off = uint16(len(t.blocks) >> 8)
			seen[cur] = off
			t.blocks = append(t.blocks, cur[:]...)
		}
		t.block[hi] = off
	}
	copy(t.ascii[:], t.blocks[:128])
	return t
}

// of returns the class of r; invalid runes (utf8.RuneError of a bad byte)
// get U+FFFD's class, as Java decodes malformed UTF-8 to U+FFFD.
func (t *classTable) of(r rune) uint8 {
	if r < 0x80 {
		return t.ascii[r]
	}
	if r > maxRune {
		r = 0xFFFD
	}
	return t.blocks[int(t.block[r>>8])<<8|int(r&0xFF)]
}
