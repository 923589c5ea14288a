# want: 6:19 Invalid combination of arguments; fit.f: no training data: set train_tuples or train_run
# A fit without training data: caught by `irflow plan`, not after upstream stages ran.
fit "f" {
  model         = "../inputs/model"
  docs          = "../inputs/docs.tsv"
  train_queries = "../inputs/queries.tsv"
  losses        = { InfoNCE = 1 }
}
