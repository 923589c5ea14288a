package analysis

// tables.go holds the tokenizer's character classes; regenerate it after
// updating the property dump with scripts/oracle/lucene/dump.sh props.
//go:generate go run ./internal/gentables -in internal/gentables/lucene-9.9.1-unicode-12.1.txt -out tables.go
