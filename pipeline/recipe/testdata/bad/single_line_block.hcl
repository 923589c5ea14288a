# want: 2:28 Invalid single-argument block definition
test_write "a" { seed = "x"
  chunks = 2 }
