# want: 8:31 Invalid argument value; unknown loss "InfoNSE"
# want: 9:44 Invalid argument value; RankNet has no parameter "temprature"
fit "f" {
  model         = "../inputs/model"
  docs          = "../inputs/docs.tsv"
  train_queries = "../inputs/queries.tsv"
  train_run     = "../inputs/run.trec"
  losses        = { InfoNSE = 1, RankNet = 1 }
  loss_options  = { "RankNet.temprature" = "2" }
}
