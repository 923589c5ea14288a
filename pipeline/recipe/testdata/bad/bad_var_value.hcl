# args: -var chunks=abc
# want: 4:13 Invalid value for variable; -var chunks=abc; "abc" is not a valid number value
variable "chunks" {
  type    = number
  default = 4
}

test_write "a" {
  seed   = "x"
  chunks = var.chunks
}
