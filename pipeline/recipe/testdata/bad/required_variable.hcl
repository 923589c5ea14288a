# want: 2:1 No value for required variable; Variable "seed" has no default
variable "seed" {
  type = string
}

test_write "a" {
  seed = var.seed
}
