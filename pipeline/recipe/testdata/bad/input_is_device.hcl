# want: 4:11 Not a file or directory; input input of test_score.s; /dev/zero is a device, not a regular file or a directory
# Hashing a device (or a pipe) would never end.
test_score "s" {
  input = "/dev/zero"
}
