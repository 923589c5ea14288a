package textio_test

import (
	"io"
	"strings"
	"testing"

	"github.com/irflow/irflow/ir/textio"
)

func TestLineReader(t *testing.T) {
	long := strings.Repeat("x", 200_000)
	lr := textio.NewLineReader(strings.NewReader("a\r\n\n"+long+"\nlast"), "f.txt")
	var got []string
	for {
		l, err := lr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(l))
	}
	if len(got) != 4 || got[0] != "a" || got[1] != "" || got[2] != long || got[3] != "last" || lr.LineNo() != 4 {
		t.Errorf("lines: %d, line number %d", len(got), lr.LineNo())
	}
	lr = textio.NewLineReader(strings.NewReader("ok\néé\xfe\n"), "f.txt")
	lr.Next()
	if _, err := lr.Next(); err == nil || err.Error() != "f.txt:2:3: invalid UTF-8 (byte 0xfe)" {
		t.Errorf("err = %v", err)
	}
}

func TestFieldsAndIDs(t *testing.T) {
	f := textio.Fields([]byte(" a\t\tb\u00a0c  d "))
	if len(f) != 3 || f[0].Text != "a" || f[1].Text != "b\u00a0c" || f[1].Off != 4 || f[2].Text != "d" {
		t.Errorf("Fields = %+v", f)
	}
	for id, ok := range map[string]bool{"doc-1": true, "é": true, "": false, "a b": false, "a\x7f": false, "\xff": false} {
		if (textio.CheckID(id) == "") != ok {
			t.Errorf("CheckID(%q) = %q", id, textio.CheckID(id))
		}
	}
	if e := (&textio.ParseError{Line: 3, Msg: "m"}).Error(); e != "<input>:3: m" {
		t.Errorf("ParseError = %q", e)
	}
}
