# want: 5:13 Input of the wrong format; Argument "run" of evaluate.e takes run/trec; but "../inputs/qrels.txt" looks like qrels; It fits "qrels": are the two swapped?
# want: 6:13 Input of the wrong format; Argument "qrels" of evaluate.e takes qrels; but "../inputs/run.trec" looks like run/trec; It fits "run"
# Literal paths are sniffed: a TREC run and TREC qrels are told apart by their columns.
evaluate "e" {
  run     = "../inputs/qrels.txt"
  qrels   = "../inputs/run.trec"
}
