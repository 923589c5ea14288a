# args: -var chunks
# want: -:- Invalid -var option; expected name=value
variable "chunks" {
  default = 4
}
