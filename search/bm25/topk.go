package bm25

// Hit is one retrieved document.
type Hit struct {
	Doc   uint32 // internal document number
	ID    string // external document id
	Score float32
}
