# want: 3:10 Missing required argument; The argument "seed" is required and cannot be null
test_write "a" {
  seed = null
}
