// Package tokenizer is a pure-Go tokenizer that produces the same ids, type
// ids and attention masks as Hugging Face `tokenizers`, so models trained in
// Python can be served from Go without re-tokenizing: BERT WordPiece
// (BertNormalizer → BertPreTokenizer → WordPiece → TemplateProcessing), and
// from tokenizer.json byte-level BPE (RoBERTa, GPT-2, ModernBERT) and
// SentencePiece Unigram (T5) with the normalizers, pre-tokenizers,
// post-processors and decoders they use (pipeline.go, modeljson.go); Load
// picks the model from model.type and refuses unsupported components.
//
// # API
//
//	tok, err := tokenizer.Load(dir)                 // tokenizer.json, else vocab.txt + tokenizer_config.json
//	tok, err := tokenizer.FromVocab(vocab, opts)    // vocab[i] has id i
//
//	enc := tok.Encode(text, maxLen)                 // [CLS] text [SEP]; maxLen 0 = no limit
//	enc, err := tok.EncodePair(q, d, maxLen, tokenizer.LongestFirst) // [CLS] q [SEP] d [SEP], type ids 0…0 1…1
//	enc := tok.EncodeWithMarker(text, markerID, maxLen) // [CLS] marker text [SEP] (Lightning IR [QUE]/[DOC])
//	enc := tok.EncodeNoSpecial(text, maxLen)       // add_special_tokens=False
//	encs := tok.EncodeBatch(texts, maxLen)          // Encode on all cores, order kept
//	pieces := tok.Tokenize(text)                    // word pieces, no specials, no truncation
//	s := tok.Decode(ids)                            // HF WordPiece decoder, special tokens skipped
//	s := tok.DecodeWith(ids, tokenizer.DecodeOptions{...})
//	id, ok := tok.TokenID("[MASK]"); s, ok := tok.Token(id); n := tok.VocabSize()
//	s := tok.Normalize(text); words := tok.PreTokenize(text) // the first two steps alone
//	sp := tok.Specials()                            // CLS, SEP, PAD, MASK, UNK ids
//	ids := tok.AddSpecialTokens("[QUE]", "[DOC]")   // as transformers' add_tokens(..., special_tokens=True)
//	ids, types, mask, batch, seqLen := tokenizer.PadBatch(encs, sp.PAD, 8)
//
// Encoding holds IDs, TypeIDs, AttentionMask, SpecialTokensMask and Tokens,
// all of equal length, unpadded. A Tokenizer is safe for concurrent use
// once loaded; AddSpecialTokens must not run concurrently with encoding.
// Character offsets are not computed (nothing in irflow needs them yet).
//
// # Truncation
//
// maxLen counts the special tokens, as `tokenizers`' enable_truncation:
// the text part is cut to maxLen minus the specials (2 for Encode, 3 for a
// pair, 3 for EncodeWithMarker). LongestFirst (HF's default) trims the
// longer side first and splits evenly when both are long; OnlyFirst and
// OnlySecond trim one side and return ErrSequenceTooShort when that side
// alone cannot make room (HF raises the same error). A maxLen smaller than
// the number of specials keeps only the specials.
//
// # Exactness
//
// The normalizer reproduces the Rust crates `tokenizers` is built with:
// control, format and private-use characters, Mn marks and punctuation as
// Unicode 8.0 classified them (unicode_categories 0.1.1), NFD with Unicode
// 9.0 data (unicode-normalization-alignments 0.1.12), whitespace and the
// full lowercase mapping of Rust's std (Unicode 17, e.g. 'İ' → "i̇").
// strip_accents == nil follows lowercase, as in HF. Added tokens (e.g.
// "[MASK]" written inside a text) are matched leftmost-longest before
// normalization (after it for normalized ones) and never split. Invalid
// UTF-8 reads as U+FFFD, which clean_text removes. See docs/tokenizer.md
// for the test oracle and the measured parity.
//
// # What models must add on top (Lightning IR v0.0.6)
//
//   - Bi-encoders: queries truncated to query_length (32), docs to
//     doc_length (512). With add_marker_tokens, "[QUE]"/"[DOC]" are added
//     as special tokens (ids vocab_size, vocab_size+1) and placed right
//     after [CLS]: use AddSpecialTokens + EncodeWithMarker. Batches are
//     padded on the right to a multiple of 8: PadBatch(encs, PAD, 8).
//   - ColBERT-style query expansion: pad queries to query_length, then
//     replace PAD ids by MASK ids (and, if attend_to_query_expanded_tokens,
//     set the attention mask to 1).
//   - Cross-encoders: query and doc are each truncated alone by
//     EncodeNoSpecial(text, len) → DecodeWith(ids, DecodeOptions{
//     CleanUpTokenizationSpaces: tok.CleanUpTokenizationSpaces()})
//     (transformers' batch_decode keeps special tokens), then encoded as a
//     pair with EncodePair(q, d, maxLen, LongestFirst); maxLen 0 unless the
//     caller truncates (ModelMaxLength gives the model's limit).
package tokenizer
