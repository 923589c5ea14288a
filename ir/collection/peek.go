package collection

import (
	"bufio"
	"bytes"
	"io"
)

// peekReader lets a reader look at the start of a file without consuming
// it, to tell formats apart.
type peekReader struct{ *bufio.Reader }

func newPeekReader(r io.Reader) peekReader { return peekReader{bufio.NewReaderSize(r, 64<<10)} }

// firstLine returns the first non-blank line within the first 64 KiB,
// trimmed. A read error is left for the real read to report.
func (p peekReader) firstLine() []byte {
	b, _ := p.Peek(p.Size())
	for _, line := range bytes.Split(b, []byte("\n")) {
		if t := bytes.TrimSpace(line); len(t) > 0 {
			return t
		}
	}
	return nil
}
