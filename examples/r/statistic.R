# A SIMON statistic from R: StatisticsUnivariate of this party's numbers with the other parties'.
#
#   Rscript examples/r/statistic.R MYSELF NUMBERS NODES UUID      (NUMBERS comma-separated)
#
# Prints the 22 statistics as JSON; a server that does not offer the microprotocol answers with a
# problem, which stops the script with its status, detail and where.
library(tessera)

args <- commandArgs(trailingOnly = TRUE)
myself <- as.integer(args[1])
numbers <- as.numeric(strsplit(args[2], ",")[[1]])
nodes <- strsplit(args[3], ",")[[1]]
api <- RepresentationsApi$new(ApiClient$new(basePath = nodes[myself + 1], timeout = 120))

simon <- api$create_representation(ArgsKwargs$new(args = list(), kwargs = list(protocol = "Simon")))$content$uuid
compute <- api$create_attribute(simon, "compute")$content$uuid
kwargs <- ComputeKwargs$new(microprotocol = "StatisticsUnivariate", data = as.list(numbers),
                            network = Network$new(nodes = as.list(nodes), uuid = args[4], myself = myself))
outcome <- tryCatch({
  result <- api$call_representation(ArgsKwargs$new(args = list(), kwargs = kwargs), compute)$content$uuid
  list(result = api$download_representation(result)$content$object$result)
}, tessera_problem = function(problem) {
  list(problem = list(status = problem$status, detail = problem$detail, where = problem$where))
})
invisible(api$release_representation(compute))
invisible(api$release_representation(simon))
cat(as.character(jsonlite::toJSON(outcome, auto_unbox = TRUE, null = "null", digits = NA)), "\n")
