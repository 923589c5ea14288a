# want: 3:11 Missing input file; input input of test_score.s; missing.bin does not exist
test_score "s" {
  input = "missing.bin"
}
