# SecureSum from R with the client generated from openapi.yaml (package `tessera`).
#
#   Rscript examples/r/secure_sum.R MYSELF SECRET [NODES [UUID]]
#
# Every party runs it at the same time against its own server, with the same NODES (comma-separated
# server URLs) and UUID; each prints the sum. TESSERA_TOKEN, if set, is sent as the bearer token.
library(tessera)

args <- commandArgs(trailingOnly = TRUE)
myself <- as.integer(args[1])
secret <- as.numeric(args[2])
nodes <- strsplit(if (length(args) >= 3) args[3] else "http://127.0.0.1:55501,http://127.0.0.1:55502,http://127.0.0.1:55503", ",")[[1]]
uuid <- if (length(args) >= 4) args[4] else "3fa85f64-5717-4562-b3fc-2c963f66afa6"

token <- Sys.getenv("TESSERA_TOKEN")
headers <- if (nzchar(token)) c(Authorization = paste("Bearer", token)) else character()
api <- RepresentationsApi$new(ApiClient$new(basePath = nodes[myself + 1], defaultHeaders = headers, timeout = 120))

# create(protocol = "Simon") -> its member compute -> the call -> download, as every FSC client does.
simon <- api$create_representation(ArgsKwargs$new(args = list(), kwargs = list(protocol = "Simon")))$content$uuid
compute <- api$create_attribute(simon, "compute")$content$uuid
network <- Network$new(nodes = as.list(nodes), uuid = uuid, myself = myself)
kwargs <- ComputeKwargs$new(microprotocol = "SecureSum", data = secret, network = network)
result <- api$call_representation(ArgsKwargs$new(args = list(), kwargs = kwargs), compute)$content$uuid
answer <- api$download_representation(result)$content$object
for (representation in c(result, compute, simon)) invisible(api$release_representation(representation))

cat(sprintf("party %d: sum %s over %d numbers from %d parties\n", myself, format(answer$result$sum), answer$result$samples, answer$inputs))
