package exec_test

import (
	"io"

	"github.com/charmbracelet/log"
)

func newLogger(w io.Writer) *log.Logger {
	return log.NewWithOptions(w, log.Options{Level: log.InfoLevel, Formatter: log.LogfmtFormatter})
}
