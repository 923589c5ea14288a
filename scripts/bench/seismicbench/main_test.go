package main

import (
	"math"
	"testing"
)

// interpolate: log CPU time linear in recall between the two points
// around r (hand-worked: halfway between 1 ms and 4 ms is 2 ms), exact at
// a point, nothing outside.
func TestInterpolate(t *testing.T) {
	rows := []row{{recall: 0.5, cpuMs: 1}, {recall: 0.7, cpuMs: 4}, {recall: 0.9, cpuMs: 16}}
	for _, c := range []struct {
		r    float64
		want float64
		ok   bool
	}{
		{0.6, 2, true},
		{0.8, 8, true},
		{0.75, math.Sqrt(32), true},
		{0.7, 4, true},
		{0.5, 1, true},
		{0.4, 0, false},
		{0.95, 0, false},
	} {
		got, ok := interpolate(rows, c.r)
		if ok != c.ok || ok && math.Abs(got-c.want) > 1e-9 {
			t.Errorf("interpolate(%v) = %v, %v; want %v, %v", c.r, got, ok, c.want, c.ok)
		}
	}
}

// recallOf counts the exact top k found, whatever their order.
func TestRecallOf(t *testing.T) {
	for _, c := range []struct {
		want, got []string
		r         float64
	}{
		{[]string{"a", "b", "c", "d"}, []string{"d", "x", "a"}, 0.5},
		{[]string{"a"}, nil, 0},
		{nil, []string{"a"}, 0},
		{[]string{"a", "b"}, []string{"b", "a"}, 1},
	} {
		if got := recallOf(c.want, c.got); got != c.r {
			t.Errorf("recallOf(%v, %v) = %v, want %v", c.want, c.got, got, c.r)
		}
	}
}
