# A BM25-like k1 × b sweep over the test kinds, reading the real ADI
# collection. Paths are relative to this file.
variable "k1s" {
  default = [0.9, 1.2]
}

variable "bs" {
  type    = list(number)
  default = [0.4, 0.75]
}

variable "chunks" {
  type        = number
  default     = 2
  description = "chunks per writer"
}

locals {
  grid = {
    for p in setproduct(var.k1s, var.bs) : "k1=${p[0]},b=${p[1]}" => { k1 = p[0], b = p[1] }
  }
  data = "../../../../../shared/data/adi"
}

collection "adi" {
  qrels   = "${local.data}/qrels.txt"
  queries = "${local.data}/queries.tsv"
  sha256 = {
    qrels   = "b2b569545f9a7067de6071e4a84d18d0ff3bc29bfe6b343deffb72ae2152aa43"
    queries = "2F7AACC2A5BE2B1E298AA8DE05A2DCF97F05E247BF4F42CACB2CAEFFC4787EF6"
  }
}

file "small" {
  path   = "../inputs/small.txt"
  sha256 = "1aa85956a96f23e6d1d97cbd75902179e0f3e9d1fdf4f8a0ff74226670907571"
}

test_write "grid" {
  for_each = local.grid
  seed     = format("k1=%.2f b=%.2f", each.value.k1, each.value.b)
  chunks   = var.chunks * each.value.k1 * 10
  delay_ms = 1
}

test_concat "all" {
  inputs = concat([for k in sort(keys(local.grid)) : test_write.grid[k].data], [collection.adi.qrels])
}

test_score "all" {
  input  = test_concat.all.data
  scale  = 2
  expect = { mean_byte = ">= 0.1", bytes = ">= 1000" }
}

test_split "small" {
  input = file.small.path
}
