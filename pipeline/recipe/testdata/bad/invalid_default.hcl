# want: 4:13 Invalid default value for variable; does not match its type number
variable "k" {
  type    = number
  default = "many"
}
