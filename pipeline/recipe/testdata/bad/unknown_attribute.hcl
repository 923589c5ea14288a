# want: 4:3 Unsupported argument; An argument named "chunkz" is not expected here. Did you mean "chunks"?
test_write "a" {
  seed   = "x"
  chunkz = 3
}
