# want: 3:10 Call to unknown function; There is no function named "md5"
test_write "a" {
  seed = md5("x")
}
