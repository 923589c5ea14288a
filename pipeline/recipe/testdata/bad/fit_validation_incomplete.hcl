# want: 9:20 Invalid combination of arguments; fit.f: validation needs val_queries, val_qrels
fit "f" {
  model          = "../inputs/model"
  docs           = "../inputs/docs.tsv"
  train_queries  = "../inputs/queries.tsv"
  train_run      = "../inputs/run.trec"
  train_qrels    = "../inputs/qrels.txt"
  losses         = { InfoNCE = 1 }
  validate_every = 100
  val_run        = "../inputs/run.trec"
}
