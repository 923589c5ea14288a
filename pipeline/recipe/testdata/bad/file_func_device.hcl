# want: 4:16 Invalid function argument; /dev/zero is not a regular file of at most 16 MiB
# file() reads only regular files, and not huge ones.
test_write "w" {
  seed = file("/dev/zero")
}
