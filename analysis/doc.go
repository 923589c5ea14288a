// Package analysis turns text into BM25 index terms exactly the way
// Lucene's EnglishAnalyzer (and Anserini's DefaultEnglishAnalyzer) does, so
// that irflow's BM25 gives the same numbers as Lucene/Anserini.
//
// The chain, in Lucene 9.9.1's order (the Lucene of Anserini 0.24.0–1.7.1;
// Lucene 10.4/10.5 of Anserini 2.x has identical sources for it):
//
//  1. StandardTokenizer: the UAX#29 word-break grammar of Lucene's
//     StandardTokenizerImpl.jflex at Unicode 12.1, including its token types
//     (ALPHANUM, NUM, SOUTHEAST_ASIAN, IDEOGRAPHIC, HIRAGANA, KATAKANA,
//     HANGUL, EMOJI) and its 255 UTF-16 code unit token window;
//  2. EnglishPossessiveFilter: drops a trailing 's / ’s / ＇s (either case);
//  3. LowerCaseFilter: per code point simple lowercase mapping;
//  4. StopFilter: Lucene's 33-word EnglishAnalyzer.ENGLISH_STOP_WORDS_SET;
//  5. PorterStemFilter: Lucene's PorterStemmer (Martin Porter's original
//     algorithm in his reference implementation's variant), or none, or
//     Snowball's English (Porter2) stemmer.
//
// Usage:
//
//	an, err := analysis.New(analysis.Config{}) // Lucene defaults
//	an.Analyze("John's cats are running", func(term string) { ... })
//	// emits "john", "cat", "run"
//
// An Analyzer keeps scratch buffers and a cache of analysed words, so it is
// not safe for concurrent use: make one per goroutine (New is cheap).
// Emitted terms are ordinary immutable strings that the caller may keep.
//
// docs/analysis.md describes the chain, its options and how parity with
// Lucene is tested (scripts/oracle/lucene).
package analysis
