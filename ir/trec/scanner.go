package trec

import (
	"io"

	"github.com/irflow/irflow/ir/textio"
)

// lineScanner streams the non-blank lines of a TREC file, parsing each with
// parse; RunScanner and QrelsScanner are its two instances.
type lineScanner[T any] struct {
	lr    *textio.LineReader
	parse func(*textio.LineReader, []byte) (T, error)
	line  T
	err   error
}

func newLineScanner[T any](r io.Reader, name string, parse func(*textio.LineReader, []byte) (T, error)) lineScanner[T] {
	return lineScanner[T]{lr: textio.NewLineReader(r, name), parse: parse}
}

// Scan advances to the next non-blank line; it returns false at the end of
// input or on the first error (see Err).
func (s *lineScanner[T]) Scan() bool {
	if s.err != nil {
		return false
	}
	for {
		raw, err := s.lr.Next()
		if err == io.EOF {
			return false
		}
		if err != nil {
			s.err = err
			return false
		}
		if textio.IsBlank(raw) {
			continue
		}
		s.line, s.err = s.parse(s.lr, raw)
		return s.err == nil
	}
}

// Line is the line read by the last successful Scan.
func (s *lineScanner[T]) Line() T { return s.line }

// Err is the first error met, or nil at a clean end of input.
func (s *lineScanner[T]) Err() error { return s.err }
