package cache

import "path/filepath"

// WorkDir is key's work directory, work/<key>/: the spec, log, progress
// and result of a stage run outside the driver (pipeline/launch) and the
// record of the cluster job running it (pipeline/slurm). It is kept after
// the commit, for the log.
func (c *Cache) WorkDir(key string) string { return filepath.Join(c.Dir, "work", key) }
