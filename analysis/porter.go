package analysis

// The Porter stemmer as Lucene's PorterStemmer applies it: M. F. Porter's
// 1980 algorithm ("An algorithm for suffix stripping", Program 14(3)) in the
// variant of his reference implementation, which departs from the paper in
// step 2: it maps -bli to -ble (not -abli to -able) and adds -logi to -log.
// Words of one or two characters are left alone. The stemmer works on UTF-16 code units like Java does:
// every unit other than a, e, i, o, u (and y after a consonant) counts as a
// consonant.

// codeUnit is a byte (for ASCII words) or a UTF-16 code unit (for the rest).
type codeUnit interface{ ~byte | ~uint16 }

// porterStem stems the lowercase word w in place and returns its new
// length. w must have room for one more unit than its length at most (the
// stemmer never grows a word by more than it has removed, minus one).
func porterStem[T codeUnit](w []T) int {
	if len(w) <= 2 {
		return len(w)
	}
	s := porter[T]{b: w, k: len(w) - 1}
	s.step1ab()
	s.step1c()
	s.step2()
	s.step3()
	s.step4()
	s.step5()
	return s.k + 1
}

// porter is the state of one stemming: b[0..k] is the current word, and j
// marks the end of the stem before the suffix that ends() last matched.
type porter[T codeUnit] struct {
	b    []T
	k, j int
}

// consonant reports whether b[i] is a consonant: anything but a vowel,
// except that y is a vowel after a consonant.
func (s *porter[T]) consonant(i int) bool {
	switch s.b[i] {
	case 'a', 'e', 'i', 'o', 'u':
		return false
	case 'y':
		return i == 0 || !s.consonant(i-1)
	}
	return true
}

// measure is m, the number of vowel-consonant sequences in b[0..j]:
// [C](VC)^m[V].
func (s *porter[T]) measure() int {
	i := 0
	for i <= s.j && s.consonant(i) {
		i++
	}
	m := 0
	for i <= s.j {
		for i <= s.j && !s.consonant(i) {
			i++
		}
		if i > s.j {
			break
		}
		for i <= s.j && s.consonant(i) {
			i++
		}
		m++
	}
	return m
}

// vowelInStem reports whether b[0..j] contains a vowel.
func (s *porter[T]) vowelInStem() bool {
	for i := 0; i <= s.j; i++ {
		if !s.consonant(i) {
			return true
		}
	}
	return false
}

// doubleConsonant reports whether b[i-1..i] is a double consonant.
func (s *porter[T]) doubleConsonant(i int) bool {
	return i >= 1 && s.b[i] == s.b[i-1] && s.consonant(i)
}

// cvc reports whether b[i-2..i] is consonant-vowel-consonant with the last
// consonant not w, x or y (hop(e), but not snow or box).
func (s *porter[T]) cvc(i int) bool {
	if i < 2 || !s.consonant(i) || s.consonant(i-1) || !s.consonant(i-2) {
		return false
	}
	c := s.b[i]
	return c != 'w' && c != 'x' && c != 'y'
}

// ends reports whether b[0..k] ends with suffix and, if so, sets j to the
// end of the stem before it.
func (s *porter[T]) ends(suffix string) bool {
	o := s.k - len(suffix) + 1
	if o < 0 {
		return false
	}
	for i := 0; i < len(suffix); i++ {
		if s.b[o+i] != T(suffix[i]) {
			return false
		}
	}
	s.j = s.k - len(suffix)
	return true
}

// setTo replaces b[j+1..k] by r.
func (s *porter[T]) setTo(r string) {
	for i := 0; i < len(r); i++ {
		s.b[s.j+1+i] = T(r[i])
	}
	s.k = s.j + len(r)
}

// replaceIfMeasured replaces the matched suffix by r when the stem's
// measure is positive.
func (s *porter[T]) replaceIfMeasured(r string) {
	if s.measure() > 0 {
		s.setTo(r)
	}
}

// step1ab removes plurals, then -eed/-ed/-ing, tidying the stem after the
// latter (hopping -> hop, hoping -> hope, agreed -> agree).
func (s *porter[T]) step1ab() {
	if s.b[s.k] == 's' {
		switch {
		case s.ends("sses"):
			s.k -= 2
		case s.ends("ies"):
			s.setTo("i")
		case s.b[s.k-1] != 's':
			s.k--
		}
	}
	if s.ends("eed") {
		if s.measure() > 0 {
			s.k--
		}
		return
	}
	if !(s.ends("ed") || s.ends("ing")) || !s.vowelInStem() {
		return
	}
	s.k = s.j
	switch {
	case s.ends("at"):
		s.setTo("ate")
	case s.ends("bl"):
		s.setTo("ble")
	case s.ends("iz"):
		s.setTo("ize")
	case s.doubleConsonant(s.k):
		if c := s.b[s.k]; c != 'l' && c != 's' && c != 'z' {
			s.k--
		}
	case s.measure() == 1 && s.cvc(s.k):
		s.setTo("e")
	}
}

// step1c turns a final y into i when the stem has a vowel.
func (s *porter[T]) step1c() {
	if s.ends("y") && s.vowelInStem() {
		s.b[s.k] = 'i'
	}
}

// suffixRule maps a suffix to its replacement.
type suffixRule struct{ suffix, replacement string }

// step2Rules map double suffixes to single ones, grouped by the suffix's
// penultimate letter; within a group the first suffix that matches decides,
// whether or not its stem is long enough.
var step2Rules = [256][]suffixRule{
	'a': {{"ational", "ate"}, {"tional", "tion"}},
	'c': {{"enci", "ence"}, {"anci", "ance"}},
	'e': {{"izer", "ize"}},
	'l': {{"bli", "ble"}, {"alli", "al"}, {"entli", "ent"}, {"eli", "e"}, {"ousli", "ous"}},
	'o': {{"ization", "ize"}, {"ation", "ate"}, {"ator", "ate"}},
	's': {{"alism", "al"}, {"iveness", "ive"}, {"fulness", "ful"}, {"ousness", "ous"}},
	't': {{"aliti", "al"}, {"iviti", "ive"}, {"biliti", "ble"}},
	'g': {{"logi", "log"}},
}

// step3Rules handle -ic-, -full, -ness etc., grouped by the last letter.
var step3Rules = [256][]suffixRule{
	'e': {{"icate", "ic"}, {"ative", ""}, {"alize", "al"}},
	'i': {{"iciti", "ic"}},
	'l': {{"ical", "ic"}, {"ful", ""}},
	's': {{"ness", ""}},
}

// applyFirst applies the first rule of the group whose suffix matches.
func (s *porter[T]) applyFirst(rules []suffixRule) {
	for _, r := range rules {
		if s.ends(r.suffix) {
			s.replaceIfMeasured(r.replacement)
			return
		}
	}
}

func (s *porter[T]) step2() {
	if s.k == 0 {
		return
	}
	if c := s.b[s.k-1]; c < 0x80 {
		s.applyFirst(step2Rules[c])
	}
}

func (s *porter[T]) step3() {
	if c := s.b[s.k]; c < 0x80 {
		s.applyFirst(step3Rules[c])
	}
}

// step4Suffixes are removed in a stem of measure > 1, grouped by the
// suffix's penultimate letter, longest first. -ion is special: only after
// s or t.
var step4Suffixes = [256][]string{
	'a': {"al"},
	'c': {"ance", "ence"},
	'e': {"er"},
	'i': {"ic"},
	'l': {"able", "ible"},
	'n': {"ant", "ement", "ment", "ent"},
	'o': {"ion", "ou"},
	's': {"ism"},
	't': {"ate", "iti"},
	'u': {"ous"},
	'v': {"ive"},
	'z': {"ize"},
}

func (s *porter[T]) step4() {
	if s.k == 0 {
		return
	}
	c := s.b[s.k-1]
	if c >= 0x80 {
		return
	}
	for _, suffix := range step4Suffixes[c] {
		if !s.ends(suffix) {
			continue
		}
		if suffix == "ion" && (s.j < 0 || s.b[s.j] != 's' && s.b[s.j] != 't') {
			continue
		}
		if s.measure() > 1 {
			s.k = s.j
		}
		return
	}
}

// step5 removes a final -e (when the stem is long enough and not a short
// cvc) and reduces a final -ll to -l in long stems.
func (s *porter[T]) step5() {
	s.j = s.k
	if s.b[s.k] == 'e' {
		if m := s.measure(); m > 1 || m == 1 && !s.cvc(s.k-1) {
			s.k--
		}
	}
	if s.b[s.k] == 'l' && s.doubleConsonant(s.k) && s.measure() > 1 {
		s.k--
	}
}
