# The golden recipe of TestGoldenKey: its key is pinned by a literal, so
# any change to how keys are computed fails that test.
golden "g" {
  docs  = "docs.tsv"
  k     = 10
  depth = 1e2
}
