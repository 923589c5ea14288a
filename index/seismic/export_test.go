package seismic

// SetMinStepKept lowers the kept postings of a checkpoint step, so that a
// small test collection has many steps; the returned func restores it.
func SetMinStepKept(n int) func() {
	old := minStepKept
	minStepKept = n
	return func() { minStepKept = old }
}
