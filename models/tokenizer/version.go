package tokenizer

// Version is bumped whenever the ids, type ids or masks produced for some
// input change. Stage results that depend on tokenization carry it in
// their cache keys (stages/components), so a change re-runs exactly them.
const Version = 1
