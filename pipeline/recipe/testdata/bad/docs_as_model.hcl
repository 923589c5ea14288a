# want: 10:13 Input of the wrong format; Argument "model" of re_rank.r takes model/hf (a Hugging Face model directory), but collection.c.docs is docs
collection "c" {
  docs = "../inputs/docs.tsv"
}

re_rank "r" {
  run     = "../inputs/run.trec"
  queries = "../inputs/queries.tsv"
  docs    = "../inputs/docs.tsv"
  model   = collection.c.docs
}
