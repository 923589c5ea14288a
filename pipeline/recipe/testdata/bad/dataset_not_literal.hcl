# want: 7:13 Invalid dataset; may use only literal values and variables (var.NAME), not local
# The dataset decides which files a collection has, so it is known before anything else is evaluated.
locals {
  name = "adi"
}
collection "c" {
  dataset = local.name
}
