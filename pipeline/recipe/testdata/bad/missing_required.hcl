# want: 2:16 Missing required argument; The argument "seed" is required
test_write "a" {
  chunks = 2
}
