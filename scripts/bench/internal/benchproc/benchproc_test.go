package benchproc

import (
	"testing"
	"time"
)

func TestLatencyRoundTrip(t *testing.T) {
	l, err := ParseLatency("noise\n" + LatencyLine(3, 1.5, 1.25, 2) + "\n")
	if err != nil || l != (Latency{1.5, 1.25, 2}) {
		t.Fatalf("%+v %v", l, err)
	}
	if _, err := ParseLatency("nothing"); err == nil {
		t.Error("no error for a missing line")
	}
	if c, err := ParseCPU("x " + CPULine(Latency{1, 2, 3})); err != nil || c != (Latency{1, 2, 3}) {
		t.Fatalf("%+v %v", c, err)
	}
	s := Summarize([]time.Duration{3 * time.Millisecond, time.Millisecond, 2 * time.Millisecond})
	if s != (Latency{2, 2, 2}) {
		t.Fatalf("%+v", s)
	}
}
