package analysis

import (
	"encoding/binary"
	"slices"
	"sync"
)

// This file holds the word-break grammar of Lucene 9.9.1's
// StandardTokenizerImpl.jflex, written as regular expressions over the
// character classes of tables.go, and compiles it the way JFlex does: a
// Thompson NFA per rule, one DFA by subset construction, longest match wins
// and, between matches of equal length, the earlier rule.

// rule is one alternative of the grammar; its index is its priority.
type rule int8

const (
	ruleEmoji rule = iota
	ruleNumeric
	ruleHangul
	ruleKatakana
	ruleWord
	ruleSoutheastAsian
	ruleIdeographic
	ruleHiragana
	ruleSkip // any other single code point: dropped
	numRules
)

// tokenTypes are the token types Lucene reports for each rule.
var tokenTypes = [numRules]string{
	ruleEmoji:          "<EMOJI>",
	ruleNumeric:        "<NUM>",
	ruleHangul:         "<HANGUL>",
	ruleKatakana:       "<KATAKANA>",
	ruleWord:           "<ALPHANUM>",
	ruleSoutheastAsian: "<SOUTHEAST_ASIAN>",
	ruleIdeographic:    "<IDEOGRAPHIC>",
	ruleHiragana:       "<HIRAGANA>",
}

// re is a regular expression over character classes.
type re struct {
	op   reOp
	set  func(props uint32) bool // for opSet
	subs []*re
}

type reOp int8

const (
	opSet reOp = iota
	opCat
	opAlt
	opStar
)

func classSet(f func(uint32) bool) *re { return &re{op: opSet, set: f} }
func oneOf(mask uint32) *re            { return classSet(func(p uint32) bool { return p&mask != 0 }) }
func cat(subs ...*re) *re              { return &re{op: opCat, subs: subs} }
func alt(subs ...*re) *re              { return &re{op: opAlt, subs: subs} }
func star(sub *re) *re                 { return &re{op: opStar, subs: []*re{sub}} }
func plus(sub *re) *re                 { return cat(sub, star(sub)) }
func opt(sub *re) *re                  { return alt(sub, cat()) }

// grammar returns the rules of StandardTokenizerImpl.jflex, in its order.
func grammar() [numRules]*re {
	const extFmtZwjProps = pFormat | pExtend | pZWJ
	// UAX#29 WB4: X (Extend | Format | ZWJ)* -> X
	extFmtZwj := star(oneOf(extFmtZwjProps))
	ex := func(x *re) *re { return cat(x, extFmtZwj) }

	// Emoji sequences (UTS #51 emoji_sequence, as the grammar adapts it);
	// here the presentation selectors U+FE0E/U+FE0F do not count as Extend.
	extSansPresSel := star(classSet(func(p uint32) bool {
		return p&extFmtZwjProps != 0 && p&(pTextPresentation|pEmojiPresentation) == 0
	}))
	emojiEx := func(x *re) *re { return cat(x, extSansPresSel) }
	const emojiRKAM = pRegionalIndicator | pKeyCapBase | pAccidentalEmoji | pEmojiModifier
	emojiChar := classSet(func(p uint32) bool {
		return p&pExtendedPictographic != 0 || p&pEmoji != 0 && p&emojiRKAM == 0
	})
	zwj := oneOf(pZWJ)
	presSel := oneOf(pEmojiPresentation)
	emojiElement := alt(
		cat(star(zwj), emojiEx(emojiChar), opt(presSel)),
		cat(opt(cat(star(zwj), emojiEx(oneOf(pEmojiModifierBase)))), emojiEx(oneOf(pEmojiModifier))),
	)
	regionalIndicatorEx := ex(oneOf(pRegionalIndicator))
	emoji := alt(
		cat(emojiElement, alt(star(cat(zwj, emojiElement)), cat(plus(oneOf(pTagSpec)), oneOf(pTagTerm)))),
		cat(emojiEx(oneOf(pKeyCapBase)), opt(presSel), emojiEx(oneOf(pKeyCap))),
		cat(regionalIndicatorEx, regionalIndicatorEx),
	)

	ahLetterEx := ex(oneOf(pALetter | pHebrewLetter))
	hebrewLetterEx := ex(oneOf(pHebrewLetter))
	numericEx := ex(oneOf(pNumeric))
	katakanaEx := ex(oneOf(pKatakana))
	midLetterEx := ex(oneOf(pMidLetter | pMidNumLet | pSingleQuote))
	midNumericEx := ex(oneOf(pMidNum | pMidNumLet | pSingleQuote))
	extendNumLetEx := ex(oneOf(pExtendNumLet))
	hangulEx := ex(classSet(func(p uint32) bool { return p&pHangul != 0 && p&(pALetter|pHebrewLetter) != 0 }))

	// WB8, WB11, WB12, WB13a, WB13b: numbers.
	number := cat(numericEx, star(cat(alt(star(extendNumLetEx), midNumericEx), numericEx)))
	// WB13: Katakana runs.
	katakana := cat(katakanaEx, star(cat(star(extendNumLetEx), katakanaEx)))
	// WB5-WB7c, WB9, WB10: letters, Hebrew quotes, letter-digit runs.
	letters := plus(alt(
		cat(hebrewLetterEx, alt(ex(oneOf(pSingleQuote)), cat(ex(oneOf(pDoubleQuote)), hebrewLetterEx))),
		number,
		cat(ahLetterEx, star(cat(alt(star(extendNumLetEx), midLetterEx), ahLetterEx))),
	))
	group := alt(katakana, letters)

	return [numRules]*re{
		ruleEmoji:          emoji,
		ruleNumeric:        cat(star(extendNumLetEx), number, star(extendNumLetEx)),
		ruleHangul:         plus(hangulEx),
		ruleKatakana:       plus(katakanaEx),
		ruleWord:           cat(star(extendNumLetEx), group, star(cat(plus(extendNumLetEx), group)), star(extendNumLetEx)),
		ruleSoutheastAsian: plus(ex(oneOf(pComplexContext))),
		ruleIdeographic:    ex(oneOf(pHan)),
		ruleHiragana:       ex(oneOf(pHiragana)),
		ruleSkip:           classSet(func(uint32) bool { return true }),
	}
}

// dfa is the compiled scanner. State 0 is dead, state 1 the start; row s of
// next holds the successors of state s for each class (rows are classStride
// wide so a row starts at s<<classShift). A successor that accepts some rule
// carries acceptBit.
type dfa struct {
	next   []uint16
	accept []rule // per state: the rule that accepts there, or -1
	// skipAtStart marks the classes whose code points can only be skipped
	// when a token would start with them (spaces, most punctuation).
	skipAtStart [numClasses]bool
	// asciiLoop[s] is the set of ASCII bytes that lead from s back to s,
	// as two 64-bit masks, so runs of them (letters in a word) are
	// consumed without table lookups.
	asciiLoop [][2]uint64
}

const (
	classShift  = 6
	classStride = 1 << classShift
	acceptBit   = 0x8000
	stateMask   = acceptBit - 1
)

var compiledGrammar = sync.OnceValue(func() *dfa { return compile(grammar()) })

// nfaState is a Thompson NFA state: either one class-set edge to out, or
// epsilon edges, or (rule >= 0) acceptance of a rule.
type nfaState struct {
	classes uint64 // classes the edge accepts, bit per class (opSet only)
	out     int
	eps     []int
	rule    rule
}

type nfaBuilder struct{ states []nfaState }

func (b *nfaBuilder) add(s nfaState) int {
	b.states = append(b.states, s)
	return len(b.states) - 1
}

// build adds x's states so that they lead to next, and returns x's start.
func (b *nfaBuilder) build(x *re, next int) int {
	switch x.op {
	case opSet:
		var mask uint64
		for c, p := range classProps {
			if x.set(p) {
				mask |= 1 << c
			}
		}
		return b.add(nfaState{classes: mask, out: next, rule: -1})
	case opCat:
		for i := len(x.subs) - 1; i >= 0; i-- {
			next = b.build(x.subs[i], next)
		}
		return next
	case opAlt:
		s := b.add(nfaState{out: -1, rule: -1})
		var eps []int
		for _, sub := range x.subs {
			eps = append(eps, b.build(sub, next))
		}
		b.states[s].eps = eps
		return s
	default: // opStar
		s := b.add(nfaState{out: -1, rule: -1})
		body := b.build(x.subs[0], s)
		b.states[s].eps = []int{body, next}
		return s
	}
}

func compile(rules [numRules]*re) *dfa {
	if numClasses > classStride {
		// tables.go and classStride disagree: a programming error that
		// every test catches (as it does the state limit below).
		panic("analysis: more character classes than classStride")
	}
	b := &nfaBuilder{}
	var starts []int
	for i, x := range rules {
		accept := b.add(nfaState{out: -1, rule: rule(i)})
		starts = append(starts, b.build(x, accept))
	}
	start := b.add(nfaState{out: -1, rule: -1, eps: starts})

	// closure follows epsilon edges from set and keeps the states that
	// matter for the DFA: those with a class edge or an accepted rule.
	mark := make([]int, len(b.states))
	generation := 0
	closure := func(set []int) []int {
		generation++
		stack := slices.Clone(set)
		var out []int
		for len(stack) > 0 {
			s := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if mark[s] == generation {
				continue
			}
			mark[s] = generation
			st := &b.states[s]
			if st.classes != 0 || st.rule >= 0 {
				out = append(out, s)
			}
			stack = append(stack, st.eps...)
		}
		slices.Sort(out)
		return out
	}
	key := func(set []int) string {
		buf := make([]byte, 0, 4*len(set))
		for _, s := range set {
			buf = binary.LittleEndian.AppendUint32(buf, uint32(s))
		}
		return string(buf)
	}

	d := &dfa{}
	index := map[string]int{}
	var sets [][]int
	addState := func(set []int) int {
		k := key(set)
		if i, ok := index[k]; ok {
			return i
		}
		i := len(sets)
		index[k] = i
		sets = append(sets, set)
		acc := rule(-1)
		for _, s := range set {
			if r := b.states[s].rule; r >= 0 && (acc < 0 || r < acc) {
				acc = r
			}
		}
		d.accept = append(d.accept, acc)
		d.next = append(d.next, make([]uint16, classStride)...)
		return i
	}
	addState(nil) // dead
	addState(closure([]int{start}))
	for i := 1; i < len(sets); i++ {
		for c := 0; c < numClasses; c++ {
			var moved []int
			for _, s := range sets[i] {
				if st := b.states[s]; st.classes&(1<<c) != 0 {
					moved = append(moved, st.out)
				}
			}
			if len(moved) == 0 {
				continue
			}
			d.next[i<<classShift|c] = uint16(addState(closure(moved)))
		}
	}
	d = minimize(d)
	if len(d.accept) > stateMask {
		panic("analysis: too many scanner states")
	}
	for i, n := range d.next {
		if n != 0 && d.accept[n] >= 0 {
			d.next[i] |= acceptBit
		}
	}
	d.asciiLoop = make([][2]uint64, len(d.accept))
	ascii := classes().ascii
	for st := range d.asciiLoop {
		for c, class := range ascii {
			if int(d.next[st<<classShift|int(class)]&stateMask) == st && st != 0 {
				d.asciiLoop[st][c>>6] |= 1 << (c & 63)
			}
		}
	}
	for c := range d.skipAtStart {
		n := int(d.next[1<<classShift|c] & stateMask)
		row := d.next[n<<classShift : (n+1)<<classShift]
		d.skipAtStart[c] = d.accept[n] == ruleSkip && !slices.ContainsFunc(row, func(x uint16) bool { return x != 0 })
	}
	return d
}

// minimize merges equivalent states (Moore's partition refinement): states
// that accept the same rule and whose successors are equivalent for every
// class. The dead state stays 0 and the start state 1.
func minimize(d *dfa) *dfa {
	n := len(d.accept)
	block := make([]int, n)
	for s := range block {
		block[s] = int(d.accept[s]) + 1
	}
	block[0] = -1 // keep the dead state apart
	for {
		sig := map[string]int{}
		next := make([]int, n)
		buf := make([]byte, 0, 4*(numClasses+1))
		for s := 0; s < n; s++ {
			buf = binary.LittleEndian.AppendUint32(buf[:0], uint32(block[s]))
			for c := 0; c < numClasses; c++ {
				buf = binary.LittleEndian.AppendUint32(buf, uint32(block[d.next[s<<classShift|c]]))
			}
			id, ok := sig[string(buf)]
			if !ok {
				id = len(sig)
				sig[string(buf)] = id
			}
			next[s] = id
		}
		stable := len(sig) == countDistinct(block)
		block = next
		if stable {
			break
		}
	}
	// Number the blocks: dead 0, start 1, the rest in order of first state.
	id := map[int]int{block[0]: 0, block[1]: 1}
	for s := 2; s < n; s++ {
		if _, ok := id[block[s]]; !ok {
			id[block[s]] = len(id)
		}
	}
	m := &dfa{accept: make([]rule, len(id)), next: make([]uint16, len(id)<<classShift)}
	for s := 0; s < n; s++ {
		b := id[block[s]]
		m.accept[b] = d.accept[s]
		for c := 0; c < numClasses; c++ {
			m.next[b<<classShift|c] = uint16(id[block[d.next[s<<classShift|c]]])
		}
	}
	return m
}

func countDistinct(xs []int) int {
	seen := map[int]bool{}
	for _, x := range xs {
		seen[x] = true
	}
	return len(seen)
}
