# want: 4:25 Invalid argument value; evaluate.e: metrics[1]: measure "nDCG@ten"
evaluate "e" {
  run     = "../inputs/run.trec"
  metrics = ["nDCG@10", "nDCG@ten"]
  qrels   = "../inputs/qrels.txt"
}
