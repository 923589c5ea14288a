package tokenizer

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// precompiled is HF's Precompiled normalizer: SentencePiece's compiled
// normalization rules (nmt_nfkc for T5, mT5, XLM-R, ALBERT), a
// darts-clone double-array trie from UTF-8 sequences to offsets of
// NUL-terminated replacements in a string pool.
type precompiled struct {
	trie []uint32
	pool string
	// ascii caches the replacement of each ASCII byte alone (ok false:
	// kept as it is), the common case.
	ascii   [128]string
	asciiOK [128]bool
}

// parsePrecompiled decodes the base64 charsmap: a little-endian uint32 trie
// size in bytes, the trie's uint32 units, then the replacement pool.
func parsePrecompiled(b64 string) (*precompiled, error) {
	blob, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("precompiled_charsmap is not base64: %v", err)
	}
	if len(blob) < 4 {
		return nil, fmt.Errorf("precompiled_charsmap has %d bytes, too short for its trie size", len(blob))
	}
	n := binary.LittleEndian.Uint32(blob)
	if n%4 != 0 || uint64(n) > uint64(len(blob)-4) || n == 0 {
		return nil, fmt.Errorf("precompiled_charsmap trie size %d does not fit its %d bytes", n, len(blob))
	}
	p := &precompiled{trie: make([]uint32, n/4), pool: string(blob[4+n:])}
	for i := range p.trie {
		p.trie[i] = binary.LittleEndian.Uint32(blob[4+4*i:])
	}
	if !utf8.ValidString(p.pool) {
		return nil, fmt.Errorf("precompiled_charsmap replacement pool is not UTF-8")
	}
	for c := 0; c < 128; c++ {
		p.ascii[c], p.asciiOK[c] = p.transform(string(rune(c)))
	}
	return p, nil
}

// transform is spm_precompiled's: the replacement of the SHORTEST key that
// prefixes chunk (the first common-prefix-search result), standing for the
// whole chunk, as tokenizers does it; ok is false when no key prefixes it.
func (p *precompiled) transform(chunk string) (string, bool) {
	t := p.trie
	unit := func(i uint32) (uint32, bool) {
		if int(i) >= len(t) {
			return 0, false
		}
		return t[i], true
	}
	offset := func(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }
	u, _ := unit(0)
	node := offset(u)
	for i := 0; i < len(chunk); i++ {
		c := chunk[i]
		if c == 0 {
			break
		}
		node ^= uint32(c)
		u, ok := unit(node)
		if !ok || u&((1<<31)|0xff) != uint32(c) {
			return "", false
		}
		node ^= offset(u)
		if (u>>8)&1 == 1 {
			v, ok := unit(node)
			if !ok {
				return "", false
			}
			idx := int(v & (1<<31 - 1))
			if idx > len(p.pool) {
				return "", false
			}
			end := strings.IndexByte(p.pool[idx:], 0)
			if end < 0 {
				return p.pool[idx:], true
			}
			return p.pool[idx : idx+end], true
		}
	}
	return "", false
}

// step normalizes s as tokenizers' Precompiled does: per extended grapheme
// cluster shorter than 6 bytes, the cluster's transform if any; otherwise
// (or for longer clusters) each character's transform, or the character.
// Clusters come from uniseg (Unicode 15.0; tokenizers' unicode-segmentation
// is newer, which matters only for clusters of characters assigned since).
func (p *precompiled) step(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	state := -1
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && (i+1 == len(s) || (s[i+1] < utf8.RuneSelf && !(c == '\r' && s[i+1] == '\n'))) {
			// An ASCII character followed by ASCII (not CR LF) is a
			// cluster alone.
			if p.asciiOK[c] {
				b.WriteString(p.ascii[c])
			} else {
				b.WriteByte(c)
			}
			i++
			state = -1
			continue
		}
		var g string
		g, _, _, state = uniseg.FirstGraphemeClusterInString(s[i:], state)
		i += len(g)
		if len(g) < 6 {
			if r, ok := p.transform(g); ok {
				b.WriteString(r)
				continue
			}
		}
		for j := 0; j < len(g); {
			_, n := utf8.DecodeRuneInString(g[j:])
			if r, ok := p.transform(g[j : j+n]); ok {
				b.WriteString(r)
			} else {
				b.WriteString(g[j : j+n])
			}
			j += n
		}
	}
	return b.String()
}
