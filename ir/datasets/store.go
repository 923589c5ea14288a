package datasets

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/irflow/irflow/ir/collection"
	"github.com/irflow/irflow/ir/trec"
)

// Environment variables read by FromEnv.
const (
	// EnvDir overrides the store directory.
	EnvDir = "IRFLOW_DATASETS"
	// EnvMirror is a base URL (http, https, file) or a local directory
	// holding the layout; when set, every file comes from it.
	EnvMirror = "IRFLOW_DATASET_MIRROR"
)

// Store keeps downloaded dataset files under Dir, in the layout's paths.
// A file is only ever renamed into place after its sha256 matched, so a
// file that exists is a verified file.
type Store struct {
	Dir string
	// Mirror replaces upstream URLs: an http(s) base URL, a file:// URL
	// or a local directory. Empty: upstream URLs only.
	Mirror string
	Client *http.Client
	// Attempts is how many times a transfer is tried (resuming where the
	// previous attempt stopped) before giving up; 0 means 4.
	Attempts int
	// Logf, if set, reports downloads.
	Logf func(format string, args ...any)
	// Offline keeps the store from downloading or copying: a file not in
	// the store yet is an ErrNotInStore error. Commands that only look
	// (irflow plan) use it; files are fetched by irflow run and
	// irflow datasets fetch.
	Offline bool
	// Progress, if set, is called as a transfer advances, with the bytes
	// of f written so far (a resumed transfer starts at what it kept).
	Progress func(f File, done int64)
}

// ErrNotInStore is the error of a file an Offline store does not hold.
var ErrNotInStore = errors.New("not in the dataset store")

// DefaultDir is ${XDG_CACHE_HOME:-~/.cache}/irflow/datasets.
func DefaultDir() (string, error) {
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("datasets: no home directory for the default store (set %s): %w", EnvDir, err)
		}
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "irflow", "datasets"), nil
}

// FromEnv makes a store from IRFLOW_DATASETS (else DefaultDir) and
// IRFLOW_DATASET_MIRROR.
func FromEnv() (*Store, error) {
	dir := os.Getenv(EnvDir)
	if dir == "" {
		var err error
		if dir, err = DefaultDir(); err != nil {
			return nil, err
		}
	}
	return &Store{Dir: dir, Mirror: os.Getenv(EnvMirror)}, nil
}

// Paths are the local files of a resolved dataset.
type Paths struct {
	Name                         string
	Docs, Corpus, Queries, Qrels string
	Runs                         map[string]string
}

// Resolve makes every file of the named dataset available locally,
// downloading what is missing, and returns their paths.
func (s *Store) Resolve(ctx context.Context, name string) (*Paths, error) {
	d, ok := Lookup(name)
	if !ok {
		return nil, fmt.Errorf("datasets: unknown dataset %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	local := map[string]string{}
	for _, f := range d.Files() {
		p, err := s.Fetch(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", d.Name, err)
		}
		local[f.Path] = p
	}
	p := &Paths{Name: d.Name, Docs: local[d.Docs], Corpus: local[d.Corpus], Queries: local[d.Queries], Qrels: local[d.Qrels]}
	if len(d.Runs) > 0 {
		p.Runs = map[string]string{}
		for sys, r := range d.Runs {
			p.Runs[sys] = local[r]
		}
	}
	if d.JudgedOnly {
		q, err := s.judgedQueries(d, p)
		if err != nil {
			return nil, fmt.Errorf("dataset %s: %w", d.Name, err)
		}
		p.Queries = q
	}
	return p, nil
}

// judgedQueries derives the dataset's query file restricted to judged
// queries, unless every query is judged already. A catalogued derived file
// is written once and checked against its pin like a downloaded one.
func (s *Store) judgedQueries(d *Dataset, p *Paths) (string, error) {
	want, pinned := judgedQueries[d.Name]
	if pinned {
		if err := checkLayoutPath(want.Path); err != nil {
			return "", err
		}
		out := filepath.Join(s.Dir, filepath.FromSlash(want.Path))
		if st, err := os.Stat(out); err == nil && st.Size() == want.Size {
			return out, nil
		}
	}
	qs, err := collection.ReadQueriesFile(p.Queries)
	if err != nil {
		return "", err
	}
	qrels, err := trec.ReadQrelsFile(p.Qrels)
	if err != nil {
		return "", err
	}
	var judged []collection.Query
	for _, q := range qs {
		if _, ok := qrels[q.ID]; ok {
			judged = append(judged, q)
		}
	}
	if len(judged) == len(qs) {
		return p.Queries, nil
	}
	if err := checkLayoutPath(d.Name); err != nil {
		return "", err
	}
	out := filepath.Join(s.Dir, filepath.FromSlash(d.Name), "queries.tsv")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".queries-*.tsv")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := collection.WriteQueries(tmp, judged, collection.TSV); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if pinned {
		if err := verify(want, tmp.Name()); err != nil {
			return "", fmt.Errorf("datasets: %s derived from %s and %s: %w", want.Path, d.Queries, d.Qrels, err)
		}
	}
	return out, os.Rename(tmp.Name(), out)
}

// Fetch makes one file available locally and returns its path.
func (s *Store) Fetch(ctx context.Context, f File) (string, error) {
	if f.Path == "" || f.SHA256 == "" {
		return "", fmt.Errorf("datasets: file %q is not in the catalog", f.Path)
	}
	if err := checkLayoutPath(f.Path); err != nil {
		return "", err
	}
	final := filepath.Join(s.Dir, filepath.FromSlash(f.Path))
	if st, err := os.Stat(final); err == nil && st.Size() == f.Size {
		return final, nil
	}
	if s.Offline {
		return "", fmt.Errorf("datasets: %s: %w %s", f.Path, ErrNotInStore, s.Dir)
	}
	src, err := s.source(f)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return "", err
	}
	unlock, err := lock(ctx, final+".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if st, err := os.Stat(final); err == nil && st.Size() == f.Size {
		return final, nil // another process finished it while we waited
	}
	part := final + ".part"
	if err := s.download(ctx, f, src, part); err != nil {
		return "", err
	}
	if err := os.Rename(part, final); err != nil {
		return "", err
	}
	if d, err := os.Open(filepath.Dir(final)); err == nil {
		d.Sync()
		d.Close()
	}
	return final, nil
}

// source is where f comes from: the mirror if one is set, else its
// upstream URL.
func (s *Store) source(f File) (string, error) {
	m := s.Mirror
	switch {
	case m == "" && f.URL == "":
		return "", fmt.Errorf("datasets: %s is derived by irflow's layout and has no byte-identical upstream copy; "+
			"set %s to a directory or URL holding the layout (for example a copy of shared/data)", f.Path, EnvMirror)
	case m == "":
		return f.URL, nil
	case strings.HasPrefix(m, "http://") || strings.HasPrefix(m, "https://"):
		return url.JoinPath(m, f.Path)
	case strings.HasPrefix(m, "file://"):
		u, err := url.Parse(m)
		if err != nil {
			return "", fmt.Errorf("datasets: %s: %w", EnvMirror, err)
		}
		return filepath.Join(u.Path, filepath.FromSlash(f.Path)), nil
	default:
		return filepath.Join(m, filepath.FromSlash(f.Path)), nil
	}
}

// errChecksum marks a completed transfer whose content is wrong.
var errChecksum = errors.New("sha256 mismatch")

// download fills part with f's content from src, resuming what an earlier
// attempt or process left, and verifies it. On a checksum mismatch the part
// is deleted; if the bad part had been resumed, one fresh transfer is tried.
func (s *Store) download(ctx context.Context, f File, src, part string) error {
	attempts := s.Attempts
	if attempts <= 0 {
		attempts = 4
	}
	freshRetry := true
	var lastErr error
	for try := 1; try <= attempts; try++ {
		resumed, err := s.transfer(ctx, f, src, part)
		if err == nil {
			err = verify(f, part)
			if err == nil {
				return nil
			}
			os.Remove(part)
			if resumed && freshRetry {
				freshRetry = false
				s.logf("datasets: %s: resumed download failed verification; downloading again from the start", f.Path)
				continue
			}
			return fmt.Errorf("datasets: %s from %s: %w; the partial download was deleted", f.Path, src, err)
		}
		lastErr = err
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var pe *permanentError
		if errors.As(err, &pe) {
			break
		}
		s.logf("datasets: %s: attempt %d of %d failed: %v", f.Path, try, attempts, err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Duration(try*try) * 100 * time.Millisecond):
		}
	}
	return fmt.Errorf("datasets: %s from %s: %w (run again to resume)", f.Path, src, lastErr)
}

// transfer appends the rest of f to part; resumed reports whether bytes
// from before this call were kept.
func (s *Store) transfer(ctx context.Context, f File, src, part string) (resumed bool, err error) {
	var have int64
	if st, err := os.Stat(part); err == nil {
		have = st.Size()
	}
	if have > f.Size {
		os.Remove(part)
		have = 0
	}
	if have == f.Size {
		return true, nil
	}
	body, start, err := s.open(ctx, src, have)
	if err != nil {
		return false, err
	}
	defer body.Close()
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND | unix.O_NOFOLLOW
	if start == 0 {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC | unix.O_NOFOLLOW
	}
	out, err := os.OpenFile(part, flags, 0o644)
	if err != nil {
		if errors.Is(err, unix.ELOOP) {
			return false, &permanentError{fmt.Errorf("%s is a symbolic link; the store never writes through one", part)}
		}
		return false, err
	}
	if have > 0 && start == have {
		s.logf("datasets: resuming %s at byte %d of %d", f.Path, have, f.Size)
	} else {
		s.logf("datasets: downloading %s (%d bytes) from %s", f.Path, f.Size, src)
	}
	// Copy at most one byte more than needed, so an oversized source shows
	// up as a size mismatch rather than filling the disk.
	var w io.Writer = out
	if s.Progress != nil {
		w = &progressWriter{w: out, f: f, done: start, report: s.Progress}
		s.Progress(f, start)
	}
	n, cerr := io.Copy(w, io.LimitReader(body, f.Size-start+1))
	if err := errors.Join(cerr, out.Sync(), out.Close()); err != nil {
		return false, fmt.Errorf("after %d bytes: %w", start+n, err)
	}
	return start > 0, nil
}

// open starts reading src at offset off. It returns the offset it really
// starts at: a server that ignores the range request starts at 0.
func (s *Store) open(ctx context.Context, src string, off int64) (io.ReadCloser, int64, error) {
	if !strings.HasPrefix(src, "http://") && !strings.HasPrefix(src, "https://") {
		f, err := os.Open(src)
		if err != nil {
			return nil, 0, &permanentError{err}
		}
		if _, err := f.Seek(off, io.SeekStart); err != nil {
			f.Close()
			return nil, 0, err
		}
		return f, off, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return nil, 0, err
	}
	if off > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(off, 10)+"-")
	}
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, 0, err
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return resp.Body, 0, nil
	case resp.StatusCode == http.StatusPartialContent && off > 0:
		if cr := resp.Header.Get("Content-Range"); !strings.HasPrefix(cr, "bytes "+strconv.FormatInt(off, 10)+"-") {
			resp.Body.Close()
			return nil, 0, fmt.Errorf("server answered range %d- with Content-Range %q", off, cr)
		}
		return resp.Body, off, nil
	default:
		resp.Body.Close()
		err := fmt.Errorf("GET %s: %s", src, resp.Status)
		if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
			return nil, 0, &permanentError{err}
		}
		return nil, 0, err
	}
}

// permanentError is a failure that retrying cannot fix (404, 403 …).
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// verify checks a file's size and sha256 against the catalog.
func verify(f File, path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return err
	}
	if n != f.Size {
		return fmt.Errorf("%w: size %d, want %d", errChecksum, n, f.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return fmt.Errorf("%w: got %s, want %s", errChecksum, got, f.SHA256)
	}
	return nil
}

// lock takes an exclusive flock on path, so concurrent processes (or
// stages) fetching the same file do not interleave their writes.
func lock(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|unix.O_NOFOLLOW, 0o644)
	if err != nil {
		return nil, fmt.Errorf("datasets: lock %s: %w", path, err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("datasets: lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// checkLayoutPath refuses a layout path that would leave the store (or a
// mirror) when joined to it: it must be a relative slash path without
// empty, "." or ".." components. Catalog paths are irflow's own, but the
// store is the one place that joins them into the file system.
func checkLayoutPath(p string) error {
	ok := p != "" && !strings.HasPrefix(p, "/") && !strings.ContainsAny(p, "\\\x00")
	for _, c := range strings.Split(p, "/") {
		ok = ok && c != "" && c != "." && c != ".."
	}
	if !ok {
		return fmt.Errorf("datasets: invalid layout path %q (want a relative slash path without . or ..)", p)
	}
	return nil
}

func (s *Store) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}

// progressWriter reports the bytes written through it.
type progressWriter struct {
	w      io.Writer
	f      File
	done   int64
	report func(File, int64)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.done += int64(n)
	p.report(p.f, p.done)
	return n, err
}

// Path is where the store keeps f.
func (s *Store) Path(f File) (string, error) {
	if err := checkLayoutPath(f.Path); err != nil {
		return "", err
	}
	return filepath.Join(s.Dir, filepath.FromSlash(f.Path)), nil
}

// State is what the store holds of a file, judged by names and sizes
// only (see Verify for the content).
type State int

const (
	Missing State = iota
	// Partial: an interrupted transfer left a .part to resume.
	Partial
	// Present: the file is in place with its catalogued size.
	Present
)

func (st State) String() string {
	return [...]string{"missing", "partial", "present"}[st]
}

// State says whether f is in the store; for a Partial file it also
// returns the bytes transferred so far.
func (s *Store) State(f File) (State, int64) {
	p, err := s.Path(f)
	if err != nil {
		return Missing, 0
	}
	if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Size() == f.Size {
		return Present, f.Size
	}
	if st, err := os.Stat(p + ".part"); err == nil && st.Mode().IsRegular() {
		return Partial, st.Size()
	}
	return Missing, 0
}

// VerifyError is a stored file that is missing or whose content is not
// the catalogued one.
type VerifyError struct {
	File File
	// Path is the file's place in the store.
	Path    string
	Missing bool
	// Size and SHA256 are what the stored file has (when not Missing).
	Size   int64
	SHA256 string
	// Err is a failure to read the file, if that is what went wrong.
	Err error
}

func (e *VerifyError) Error() string {
	switch {
	case e.Missing:
		return fmt.Sprintf("%s: missing (%s)", e.File.Path, e.Path)
	case e.Err != nil:
		return fmt.Sprintf("%s: %s: %v", e.File.Path, e.Path, e.Err)
	case e.Size != e.File.Size:
		return fmt.Sprintf("%s: corrupt: %s has %d bytes and sha256 %s, want %d bytes and sha256 %s",
			e.File.Path, e.Path, e.Size, e.SHA256, e.File.Size, e.File.SHA256)
	}
	return fmt.Sprintf("%s: corrupt: %s has sha256 %s, want %s", e.File.Path, e.Path, e.SHA256, e.File.SHA256)
}

func (e *VerifyError) Unwrap() error { return e.Err }

// Verify re-hashes the stored copy of f: nil when its size and sha256 are
// the catalog's, else a *VerifyError. Unlike Fetch, which trusts a file
// it renamed into place itself, it reads the whole file, so it finds
// files damaged or edited since.
func (s *Store) Verify(f File) error {
	p, err := s.Path(f)
	if err != nil {
		return err
	}
	fh, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return &VerifyError{File: f, Path: p, Missing: true}
	}
	if err != nil {
		return &VerifyError{File: f, Path: p, Err: err}
	}
	defer fh.Close()
	if st, err := fh.Stat(); err == nil && !st.Mode().IsRegular() {
		return &VerifyError{File: f, Path: p, Err: fmt.Errorf("not a regular file")}
	}
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return &VerifyError{File: f, Path: p, Err: err}
	}
	if got := hex.EncodeToString(h.Sum(nil)); n != f.Size || got != f.SHA256 {
		return &VerifyError{File: f, Path: p, Size: n, SHA256: got}
	}
	return nil
}

// Remove deletes the stored copy of f (and any partial download of it),
// so that the next Fetch transfers it afresh; a missing file is no error.
func (s *Store) Remove(f File) error {
	p, err := s.Path(f)
	if err != nil {
		return err
	}
	return errors.Join(ignoreMissing(os.Remove(p)), ignoreMissing(os.Remove(p+".part")))
}

func ignoreMissing(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
