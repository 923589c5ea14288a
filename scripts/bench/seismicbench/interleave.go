package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	seismicx "github.com/irflow/irflow/index/seismic"
	"github.com/irflow/irflow/scripts/bench/internal/benchproc"
)

// anchorRun is pyseismic-lsr serving seismic_anchor.py's commands in a
// child process: its index built (or loaded) once, then searched round by
// round between irflow's rounds.
type anchorRun struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// startAnchor starts the anchor on the corpus and waits for its index;
// with save it keeps the index as OUT/pyseismic.index.seismic and loads it
// on later runs with the same vectors and parameters.
func startAnchor(py, name, dir, out string, k int, o seismicx.Options, save bool) (*anchorRun, error) {
	args := []string{"scripts/bench/seismicbench/seismic_anchor.py",
		"--docs", filepath.Join(dir, "vectors.jsonl"), "--queries", filepath.Join(dir, "queries.jsonl"),
		"--exact", filepath.Join(out, "exact.tsv"), "--k", strconv.Itoa(k),
		"--n-postings", strconv.Itoa(o.NumPostings), "--centroid-fraction", fmt.Sprint(o.CentroidFraction),
		"--min-cluster-size", strconv.Itoa(o.MinClusterSize), "--summary-energy", fmt.Sprint(o.SummaryEnergy),
		"--doc-cut", strconv.Itoa(o.DocCut), "--threads", strconv.Itoa(o.Threads)}
	if save {
		args = append(args, "--index", filepath.Join(out, "pyseismic"))
	}
	a := &anchorRun{cmd: exec.Command(py, args...)}
	a.cmd.Stderr = os.Stderr
	var err error
	if a.in, err = a.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := a.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	a.out = bufio.NewScanner(stdout)
	if err := a.cmd.Start(); err != nil {
		return nil, fmt.Errorf("pyseismic-lsr (%s; ./task setup:seismic): %w", py, err)
	}
	var b struct {
		BuildS *float64 `json:"build_s"`
		LoadS  *float64 `json:"load_s"`
		Docs   int      `json:"docs"`
	}
	if err := a.read(&b); err != nil {
		a.Close()
		return nil, err
	}
	if b.BuildS != nil {
		fmt.Printf("%s pyseismic-lsr: %d docs; build %.1f s (%d threads)\n", name, b.Docs, *b.BuildS, o.Threads)
	} else if b.LoadS != nil {
		fmt.Printf("%s pyseismic-lsr: %d docs; loaded the index of an earlier run (%.1f s)\n", name, b.Docs, *b.LoadS)
	}
	return a, nil
}

// read decodes the anchor's next JSON line into v.
func (a *anchorRun) read(v any) error {
	for a.out.Scan() {
		line := a.out.Bytes()
		if len(line) == 0 || line[0] != '{' {
			fmt.Fprintf(os.Stderr, "pyseismic-lsr: %s\n", line) // its build's messages
			continue
		}
		if err := json.Unmarshal(line, v); err != nil {
			return fmt.Errorf("pyseismic-lsr output %q: %v", line, err)
		}
		return nil
	}
	if err := a.out.Err(); err != nil {
		return err
	}
	return fmt.Errorf("pyseismic-lsr ended early (see its messages above)")
}

// search times one round at p, as irflowRun.search does.
func (a *anchorRun) search(name string, p point) (row, error) {
	if _, err := fmt.Fprintf(a.in, "search %d:%v\n", p.cut, p.hf); err != nil {
		return row{}, err
	}
	var r struct {
		Recall float64 `json:"recall"`
		Mean   float64 `json:"mean_ms"`
		P50    float64 `json:"p50_ms"`
		P99    float64 `json:"p99_ms"`
		CPU    float64 `json:"cpu_mean_ms"`
	}
	if err := a.read(&r); err != nil {
		return row{}, err
	}
	return row{data: name, system: "pyseismic-lsr", p: p, recall: r.Recall,
		lat: benchproc.Latency{Mean: r.Mean, P50: r.P50, P99: r.P99}, cpuMs: r.CPU}, nil
}

// batch is the mean time per query of one batch_search at p.
func (a *anchorRun) batch(p point) (float64, error) {
	if _, err := fmt.Fprintf(a.in, "batch %d:%v\n", p.cut, p.hf); err != nil {
		return 0, err
	}
	var r struct {
		Batch float64 `json:"batch_mean_ms"`
	}
	err := a.read(&r)
	return r.Batch, err
}

// Close ends the anchor (at the end of its input).
func (a *anchorRun) Close() error {
	a.in.Close()
	return a.cmd.Wait()
}

// interleave times both systems at every point for rounds rounds,
// alternating which goes first, so that both see the same load; it keeps
// each system's round with the least CPU time per query (an anchor of nil
// times irflow alone). The search profile is of irflow's last round at
// the last point.
func interleave(name string, k int, points []point, rounds int, ir *irflowRun, an *anchorRun) ([]row, error) {
	best := map[string]map[point]row{"irflow": {}, "pyseismic-lsr": {}}
	keep := func(r row) {
		if b, ok := best[r.system][r.p]; !ok || r.cpuMs < b.cpuMs {
			best[r.system][r.p] = r
		}
	}
	for round := range rounds {
		for pi, p := range points {
			prof := ""
			if round == rounds-1 && pi == len(points)-1 {
				prof = searchProfile
			}
			sides := []func() (row, error){
				func() (row, error) { return ir.search(name, k, p, prof) },
			}
			if an != nil {
				anchor := func() (row, error) { return an.search(name, p) }
				if (round+pi)%2 == 0 {
					sides = append(sides, anchor)
				} else {
					sides = append([]func() (row, error){anchor}, sides...)
				}
			}
			for _, side := range sides {
				r, err := side()
				if err != nil {
					return nil, err
				}
				keep(r)
				fmt.Fprintf(os.Stderr, "%s round %d %s %d:%v: recall %.3f, CPU %.3f ms/query; load average %s\n",
					name, round+1, r.system, p.cut, p.hf, r.recall, r.cpuMs, benchproc.LoadAverage())
			}
		}
	}
	var rows []row
	for _, sys := range []string{"irflow", "pyseismic-lsr"} {
		for _, p := range points {
			r, ok := best[sys][p]
			if !ok {
				continue
			}
			if an != nil && sys == "pyseismic-lsr" {
				var err error
				if r.batchMs, err = an.batch(p); err != nil {
					return nil, err
				}
			}
			rows = append(rows, r)
		}
	}
	return rows, nil
}
