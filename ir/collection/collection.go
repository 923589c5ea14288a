// Package collection reads and writes the document and query files of IR
// test collections: TSV ("id<TAB>text") and BEIR JSONL corpora and
// queries, and BEIR qrels TSV. Documents are streamed, since corpora can
// be far larger than memory; queries and qrels are small and read whole.
package collection

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/irflow/irflow/ir/textio"
)

// Doc is one document. TSV files have no title.
type Doc struct {
	ID    string
	Title string
	Text  string
}

// ModelText is what a model reads of a document: a BEIR title before the
// text, separated by a space (BEIR's dense-retrieval convention), else the
// text alone. Every stage that encodes documents uses it, so re_rank and
// the neural indexes see the same string.
func (d Doc) ModelText() string {
	if d.Title != "" {
		return d.Title + " " + d.Text
	}
	return d.Text
}

// Query is one query (topic).
type Query struct {
	ID   string
	Text string
}

// Format is an on-disk layout of documents or queries.
type Format int

const (
	// TSV is "id<TAB>text", one record per line; text may be empty.
	TSV Format = iota
	// JSONL is BEIR's one JSON object per line: {"_id", "title", "text"}
	// (queries have no title); other fields are ignored.
	JSONL
)

func (f Format) String() string {
	if f == JSONL {
		return "jsonl"
	}
	return "tsv"
}

// FormatOf guesses a file's format from its name (".jsonl", ".json",
// optionally followed by ".gz", are JSONL; anything else is TSV).
func FormatOf(path string) Format {
	p := strings.TrimSuffix(path, ".gz")
	if strings.HasSuffix(p, ".jsonl") || strings.HasSuffix(p, ".json") {
		return JSONL
	}
	return TSV
}

// DocReader streams documents.
type DocReader struct {
	lr     *textio.LineReader
	format Format
}

// NewDocReader reads documents in the given format from r; name is used in
// error messages.
func NewDocReader(r io.Reader, name string, format Format) *DocReader {
	return &DocReader{lr: textio.NewLineReader(r, name), format: format}
}

// Next returns the next document, or io.EOF after the last one. Blank lines
// are skipped. Duplicate ids are not detected here (that needs memory
// proportional to the corpus); ReadDocs checks them.
func (d *DocReader) Next() (Doc, error) {
	for {
		line, err := d.lr.Next()
		if err != nil {
			return Doc{}, err
		}
		if textio.IsBlank(line) {
			continue
		}
		if d.format == JSONL {
			return parseJSONDoc(d.lr, line)
		}
		id, text, err := parseTSV(d.lr, line)
		return Doc{ID: id, Text: text}, err
	}
}

// Line is the line number of the document last returned.
func (d *DocReader) Line() int { return d.lr.LineNo() }

// parseTSV splits "id<TAB>text". A line without a tab is an id with empty
// text only if it has no spaces (so a space-separated line is reported
// rather than silently read as one long id).
func parseTSV(lr *textio.LineReader, line []byte) (id, text string, err error) {
	tab := bytes.IndexByte(line, '\t')
	idPart := line
	if tab >= 0 {
		idPart = line[:tab]
		if extra := bytes.IndexByte(line[tab+1:], '\t'); extra >= 0 {
			return "", "", lr.Errorf(textio.Column(line, tab+1+extra), "more than 2 tab-separated columns, want id<TAB>text")
		}
		text = string(line[tab+1:])
		if cr := strings.IndexByte(text, '\r'); cr >= 0 {
			return "", "", lr.Errorf(textio.Column(line, tab+1+cr), "carriage return inside a line")
		}
	}
	if why := textio.CheckID(string(idPart)); why != "" {
		if tab < 0 && bytes.IndexByte(line, ' ') >= 0 {
			return "", "", lr.Errorf(0, "no tab: want id<TAB>text")
		}
		return "", "", lr.Errorf(1, "%s", why)
	}
	return string(idPart), text, nil
}

type jsonRecord struct {
	ID    json.RawMessage `json:"_id"`
	Title *string         `json:"title"`
	Text  *string         `json:"text"`
}

func parseJSONRecord(lr *textio.LineReader, line []byte) (jsonRecord, string, error) {
	var rec jsonRecord
	if err := json.Unmarshal(line, &rec); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return rec, "", lr.Errorf(textio.Column(line, int(se.Offset)-1), "invalid JSON: %v", se)
		case errors.As(err, &te) && te.Field == "":
			return rec, "", lr.Errorf(0, "want a JSON object, got %s", te.Value)
		case errors.As(err, &te):
			return rec, "", lr.Errorf(textio.Column(line, int(te.Offset)-1), "field %q must be a string", te.Field)
		default:
			return rec, "", lr.Errorf(0, "invalid JSON: %v", err)
		}
	}
	if len(rec.ID) == 0 || string(rec.ID) == "null" {
		return rec, "", lr.Errorf(0, `missing "_id"`)
	}
	var id string
	switch rec.ID[0] {
	case '"':
		if err := json.Unmarshal(rec.ID, &id); err != nil {
			return rec, "", lr.Errorf(0, `bad "_id": %v`, err)
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		// Some exporters write numeric ids; keep their literal text.
		id = string(rec.ID)
	default:
		return rec, "", lr.Errorf(0, `"_id" must be a string, got %s`, rec.ID)
	}
	if why := textio.CheckID(id); why != "" {
		return rec, "", lr.Errorf(0, `"_id": %s`, why)
	}
	return rec, id, nil
}

func parseJSONDoc(lr *textio.LineReader, line []byte) (Doc, error) {
	rec, id, err := parseJSONRecord(lr, line)
	if err != nil {
		return Doc{}, err
	}
	d := Doc{ID: id}
	if rec.Title != nil {
		d.Title = *rec.Title
	}
	if rec.Text != nil {
		d.Text = *rec.Text
	}
	return d, nil
}

// OpenDocs opens a document file; its format comes from its name
// (FormatOf). Close the returned closer when done.
func OpenDocs(path string) (*DocReader, io.Closer, error) {
	f, err := textio.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return NewDocReader(f, path, FormatOf(path)), f, nil
}

// ReadDocs reads a whole document file into memory, rejecting duplicate ids.
func ReadDocs(path string) ([]Doc, error) {
	dr, c, err := OpenDocs(path)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var docs []Doc
	seen := map[string]int{}
	for {
		d, err := dr.Next()
		if err == io.EOF {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[d.ID]; dup {
			return nil, &textio.ParseError{File: path, Line: dr.Line(), Msg: fmt.Sprintf("duplicate document id %q (first on line %d)", d.ID, prev)}
		}
		seen[d.ID] = dr.Line()
		docs = append(docs, d)
	}
}

// ModelTexts reads the text a model encodes (Doc.ModelText) of the first
// limit documents of a file (limit ≤ 0: all), in file order.
func ModelTexts(path string, limit int) ([]string, error) {
	dr, c, err := OpenDocs(path)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var out []string
	for limit <= 0 || len(out) < limit {
		d, err := dr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, d.ModelText())
	}
	return out, nil
}

// ModelTextsOf streams a document file once and keeps the model text of
// the documents in want, so a large collection costs memory only for the
// documents asked for. A wanted id found twice is an error naming its
// line; ids missing from the file are simply absent from the result.
func ModelTextsOf(path string, want map[string]bool) (map[string]string, error) {
	dr, c, err := OpenDocs(path)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	out := make(map[string]string, len(want))
	for {
		d, err := dr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if !want[d.ID] {
			continue
		}
		if _, dup := out[d.ID]; dup {
			return nil, &textio.ParseError{File: path, Line: dr.Line(), Msg: fmt.Sprintf("document %q appears twice", d.ID)}
		}
		out[d.ID] = d.ModelText()
	}
}

// ReadQueries reads queries in the given format, rejecting duplicate ids.
// In JSONL, the "text" field is the query and other fields are ignored.
func ReadQueries(r io.Reader, name string, format Format) ([]Query, error) {
	lr := textio.NewLineReader(r, name)
	var qs []Query
	seen := map[string]int{}
	for {
		line, err := lr.Next()
		if err == io.EOF {
			return qs, nil
		}
		if err != nil {
			return nil, err
		}
		if textio.IsBlank(line) {
			continue
		}
		var q Query
		if format == JSONL {
			rec, id, err := parseJSONRecord(lr, line)
			if err != nil {
				return nil, err
			}
			q.ID = id
			if rec.Text != nil {
				q.Text = *rec.Text
			}
		} else {
			q.ID, q.Text, err = parseTSV(lr, line)
			if err != nil {
				return nil, err
			}
		}
		if prev, dup := seen[q.ID]; dup {
			return nil, lr.Errorf(0, "duplicate query id %q (first on line %d)", q.ID, prev)
		}
		seen[q.ID] = lr.LineNo()
		qs = append(qs, q)
	}
}

// ReadQueriesFile reads a query file; its format comes from its name.
func ReadQueriesFile(path string) ([]Query, error) {
	f, err := textio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadQueries(f, path, FormatOf(path))
}

// checkText reports why text cannot be written so that it reads back as
// itself: it must be valid UTF-8, and a TSV field has no tabs or line breaks.
func checkText(text string, format Format) error {
	if !utf8.ValidString(text) {
		return fmt.Errorf("text is not valid UTF-8")
	}
	if format == TSV {
		if i := strings.IndexAny(text, "\t\n\r"); i >= 0 {
			return fmt.Errorf("text contains a tab or line break at byte %d", i)
		}
	}
	return nil
}

// DocWriter writes documents in one format.
type DocWriter struct {
	w      *bufio.Writer
	format Format
}

// NewDocWriter writes documents to w. Call Flush at the end.
func NewDocWriter(w io.Writer, format Format) *DocWriter {
	return &DocWriter{w: bufio.NewWriter(w), format: format}
}

// Write writes one document. In TSV the title is dropped unless the caller
// has folded it into the text, and text must not contain tabs or newlines.
func (dw *DocWriter) Write(d Doc) error {
	if why := textio.CheckID(d.ID); why != "" {
		return fmt.Errorf("collection: document id: %s", why)
	}
	for _, t := range []string{d.Title, d.Text} {
		if err := checkText(t, dw.format); err != nil {
			return fmt.Errorf("collection: document %q: %w", d.ID, err)
		}
	}
	if dw.format == JSONL {
		return writeJSON(dw.w, struct {
			ID    string `json:"_id"`
			Title string `json:"title"`
			Text  string `json:"text"`
		}{d.ID, d.Title, d.Text})
	}
	if d.Title != "" {
		return fmt.Errorf("collection: document %q: TSV has no title field; fold the title into the text", d.ID)
	}
	_, err := fmt.Fprintf(dw.w, "%s\t%s\n", d.ID, d.Text)
	return err
}

// Flush writes buffered output.
func (dw *DocWriter) Flush() error { return dw.w.Flush() }

// WriteQueries writes queries in the given format.
func WriteQueries(w io.Writer, qs []Query, format Format) error {
	bw := bufio.NewWriter(w)
	for _, q := range qs {
		if why := textio.CheckID(q.ID); why != "" {
			return fmt.Errorf("collection: query id: %s", why)
		}
		if err := checkText(q.Text, format); err != nil {
			return fmt.Errorf("collection: query %q: %w", q.ID, err)
		}
		if format == JSONL {
			if err := writeJSON(bw, struct {
				ID   string `json:"_id"`
				Text string `json:"text"`
			}{q.ID, q.Text}); err != nil {
				return err
			}
			continue
		}
		fmt.Fprintf(bw, "%s\t%s\n", q.ID, q.Text)
	}
	return bw.Flush()
}

// writeJSON writes one JSON object per line (the encoder adds the newline),
// leaving <, > and & unescaped for readability.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
