# want: 4:12 Incorrect attribute value type; Inappropriate value for attribute "chunks": a number required
test_write "a" {
  seed   = "x"
  chunks = "many"
}
