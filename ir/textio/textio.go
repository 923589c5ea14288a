// Package textio reads line-oriented IR text files (runs, qrels, TSV and
// JSONL collections) and reports malformed input as file:line:col errors,
// so a bad line in a multi-gigabyte file can be found with an editor.
package textio

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// ParseError locates a problem in an input file. Line and Col are 1-based;
// Col counts characters (runes) and is 0 when the whole line is at fault.
type ParseError struct {
	File string
	Line int
	Col  int
	Msg  string
}

func (e *ParseError) Error() string {
	name := e.File
	if name == "" {
		name = "<input>"
	}
	if e.Col > 0 {
		return fmt.Sprintf("%s:%d:%d: %s", name, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", name, e.Line, e.Msg)
}

// LineReader yields the lines of a text file without their line ending
// ("\n" or "\r\n"). Lines may be arbitrarily long.
type LineReader struct {
	r    *bufio.Reader
	name string
	n    int
	buf  []byte
}

// NewLineReader reads lines from r; name is used in error messages.
func NewLineReader(r io.Reader, name string) *LineReader {
	return &LineReader{r: bufio.NewReaderSize(r, 64<<10), name: name}
}

// Name is the file name used in messages.
func (lr *LineReader) Name() string { return lr.name }

// LineNo is the number of the line last returned by Next (1-based).
func (lr *LineReader) LineNo() int { return lr.n }

// Next returns the next line. It returns io.EOF after the last line and a
// ParseError for a line that is not valid UTF-8. The returned slice is only
// valid until the next call.
func (lr *LineReader) Next() ([]byte, error) {
	lr.buf = lr.buf[:0]
	for {
		chunk, err := lr.r.ReadSlice('\n')
		lr.buf = append(lr.buf, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			if len(lr.buf) == 0 {
				return nil, io.EOF
			}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", lr.name, err)
		}
		break
	}
	lr.n++
	line := bytes.TrimSuffix(lr.buf, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	if !utf8.Valid(line) {
		off := firstInvalidUTF8(line)
		return nil, lr.Errorf(Column(line, off), "invalid UTF-8 (byte 0x%02x)", line[off])
	}
	return line, nil
}

// Errorf makes a ParseError at the current line. col is 1-based (0: none).
func (lr *LineReader) Errorf(col int, format string, args ...any) error {
	return &ParseError{File: lr.name, Line: lr.n, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// Column converts a byte offset in line to a 1-based character column.
func Column(line []byte, off int) int {
	if off > len(line) {
		off = len(line)
	}
	return utf8.RuneCount(line[:off]) + 1
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return 0
}

// Field is one whitespace-separated token of a line and where it starts.
type Field struct {
	Text string
	Off  int // byte offset in the line
}

// Fields splits a line on runs of ASCII spaces and tabs, the separators
// trec_eval accepts. Other characters (including Unicode spaces) are part
// of a field.
func Fields(line []byte) []Field {
	var out []Field
	i := 0
	for i < len(line) {
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i == len(line) {
			break
		}
		start := i
		for i < len(line) && line[i] != ' ' && line[i] != '\t' {
			i++
		}
		out = append(out, Field{Text: string(line[start:i]), Off: start})
	}
	return out
}

// IsBlank reports whether a line holds only spaces and tabs.
func IsBlank(line []byte) bool {
	for _, c := range line {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// CheckID reports why s cannot be an identifier in a whitespace-separated
// file ("" if it can): ids are non-empty, valid UTF-8 and free of ASCII
// control characters and spaces, so that every written id reads back as
// itself.
func CheckID(s string) string {
	if s == "" {
		return "empty id"
	}
	if !utf8.ValidString(s) {
		return "id is not valid UTF-8"
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return fmt.Sprintf("id %q contains a space or control character", s)
		}
	}
	return ""
}

// Open opens a file for reading, transparently decompressing it when the
// name ends in ".gz".
func Open(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(path, ".gz") {
		return f, nil
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &gzipFile{Reader: zr, f: f}, nil
}

type gzipFile struct {
	*gzip.Reader
	f *os.File
}

func (g *gzipFile) Close() error {
	return errors.Join(g.Reader.Close(), g.f.Close())
}
