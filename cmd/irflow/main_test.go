package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/irflow/irflow/pipeline/exec"
	"github.com/irflow/irflow/stages/testkinds"
)

// The tests run irflow as a real subprocess: this test binary re-executes
// itself as the irflow command (with the test kinds linked in) when
// IRFLOW_TEST_AS_CLI is set. That is the same main package and dispatcher
// as bin/irflow, without a second build; `go build -tags irflowtest
// ./cmd/irflow` makes the same binary by hand.
const asCLI = "IRFLOW_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(asCLI) == "1" {
		testkinds.Register()
		os.Exit(dispatch(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// cli is a working directory with its own cache and execution log.
type cli struct {
	t     *testing.T
	dir   string
	cache string
	log   string
	// env is added to the environment of every irflow invocation.
	env []string
}

func newCLI(t *testing.T) *cli {
	dir := t.TempDir()
	return &cli{t: t, dir: dir, cache: filepath.Join(dir, "cache"), log: filepath.Join(dir, "executions.log")}
}

// command prepares `irflow args…` in the cli's directory.
func (c *cli) command(args ...string) *osexec.Cmd {
	cmd := osexec.Command(os.Args[0], args...)
	cmd.Dir = c.dir
	cmd.Env = append(os.Environ(), asCLI+"=1", testkinds.LogEnv+"="+c.log, "IRFLOW_CACHE="+c.cache)
	cmd.Env = append(cmd.Env, c.env...)
	return cmd
}

// result of one irflow invocation.
type result struct {
	code           int
	stdout, stderr string
}

func (c *cli) irflow(args ...string) result {
	c.t.Helper()
	cmd := c.command(args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *osexec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatal(err)
	}
	return result{code, stdout.String(), stderr.String()}
}

// mustRun runs a recipe and returns its JSON summary.
func (c *cli) mustRun(recipe string, args ...string) *exec.Result {
	c.t.Helper()
	r := c.irflow(append([]string{"run", "--json", recipe}, args...)...)
	if r.code != 0 {
		c.t.Fatalf("irflow run %s: exit %d\n%s\n%s", recipe, r.code, r.stdout, r.stderr)
	}
	return parseResult(c.t, r.stdout)
}

func parseResult(t *testing.T, s string) *exec.Result {
	t.Helper()
	var res exec.Result
	if err := json.Unmarshal([]byte(s), &res); err != nil {
		t.Fatalf("summary is not JSON: %v\n%s", err, s)
	}
	return &res
}

func (c *cli) write(name, content string) string {
	c.t.Helper()
	p := filepath.Join(c.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// executions counts how often each address really executed.
func (c *cli) executions() map[string]int {
	data, _ := os.ReadFile(c.log)
	n := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		if addr, _, ok := strings.Cut(line, "\t"); ok {
			n[addr]++
		}
	}
	return n
}

func stateCounts(res *exec.Result) map[exec.State]int {
	n := map[exec.State]int{}
	for _, s := range res.Stages {
		n[s.State]++
	}
	return n
}
