package sparse

// SetOnSpill installs a hook called after each spilled run; the returned
// function removes it.
func SetOnSpill(fn func(runs int)) (restore func()) {
	onSpill = fn
	return func() { onSpill = nil }
}
