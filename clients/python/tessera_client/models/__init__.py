# coding: utf-8

# flake8: noqa
"""
    Tessera party server API

    One party's Tessera server. Several organisations each run one, next to their private data. The servers compute jointly (a sum, the weighted average of federated-learning models) peer-to-peer on secret shares and masked values: every party learns the agreed result and nothing else about the others' inputs. A party's own programs talk only to their own server, through the client API below.  ## The representation model  The client API (tag `representations`) is the generic representation API of Federated Secure Computing v0.6, answered exactly so: unmodified clients of that API work against Tessera. The server holds *representations*, server-side objects named by a UUID: a microservice, a member of one, an uploaded value, a result. A client  1. **creates** a representation of a microservice by matching its description    (`POST /representations`), or of a value by uploading it (`PUT /representations`); 2. takes an **attribute** of it, such as the member `compute` (`GET /representation/{uuid}/compute`); 3. **calls** that (`PATCH /representation/{uuid}` with `{\"args\": [...], \"kwargs\": {...}}`); the    result is a new representation; 4. **downloads** a result (`GET /representation/{uuid}`: `{\"type\": \"object\", \"object\": ...}`); 5. **releases** every representation it made (`DELETE /representation/{uuid}`).  An argument `{\"representation_uuid\": \"...\"}` stands for the object that representation names (an uploaded model, say). Clients of the v0.6 API send a JSON body `{}` with GET and DELETE; it is accepted.  ## Walk-through: a SecureSum of 19, 5 and 61  Three parties run a server each (`npx tessera serve --port 55501`, `55502`, `55503`). Each party's client talks to its own server; party 0 does:  | step | request | answer | |---|---|---| | create | `POST /representations` `{\"args\": [], \"kwargs\": {\"protocol\": \"Simon\"}}` | `{\"type\": \"uuid\", \"uuid\": S}` | | attribute | `GET /representation/S/compute` | `{\"type\": \"uuid\", \"uuid\": C}` | | call | `PATCH /representation/C` with the body below | `{\"type\": \"uuid\", \"uuid\": R}`, once all three have called | | download | `GET /representation/R` | `{\"type\": \"object\", \"object\": {\"inputs\": 3, \"result\": {\"samples\": 3, \"sum\": 85}}}` | | release | `DELETE /representation/R`, then C and S | `{\"type\": \"none\"}` |  ```json {\"args\": [], \"kwargs\": {\"microprotocol\": \"SecureSum\", \"data\": 19,   \"network\": {\"nodes\": [\"http://127.0.0.1:55501\", \"http://127.0.0.1:55502\", \"http://127.0.0.1:55503\"],               \"uuid\": \"a7f4fea2-b5f4-4d64-9705-45b3629a8145\", \"myself\": 0}}} ```  Party 1 sends `\"data\": 5, \"myself\": 1` to its server, party 2 `\"data\": 61, \"myself\": 2`, with the same `nodes` and `uuid`. Each call returns when the sum is known (within the servers' stage timeout, 30 s by default); every party gets 85, and no server sees another party's secret. The same `uuid` may be reused for the next computation of the same parties.  ## Microprotocols  The `Simon` microservice (`{\"protocol\": \"Simon\"}`) has two members. `compute` takes `ComputeKwargs` as its keyword arguments:  | `microprotocol` | `data` | the result downloads as | |---|---|---| | `SecureSum` | `SecureSumInput`: a number, or a list of numbers | `SecureSumResult` | | `SecureFedAvg` | `SecureFedAvgInput`: `{\"tensors\": model, \"weight\": n_k}` | `SecureFedAvgResult`, or a safetensors file | | `PlainFedAvg` | as SecureFedAvg | as SecureFedAvg. **INSECURE baseline**: no masks, each party's scaled model travels in clear; for benchmarks only, never for private models |  `prepare` (`PrepareKwargs`) announces a SecureFedAvg or PlainFedAvg before the model exists: the parties agree on the tensors and prepare the masks while training runs. It returns a prepared computation whose member `submit` (`SubmitKwargs`) gives the model and weight and returns the result; `status` and `cancel` are members too.  Other SIMON microprotocols (statistics, min/max, median, set intersection, ...) answer 501.  ## Other surfaces  - **Peer API** (tag `peer`): server to server only. Parties' servers exchange sealed   envelopes of running computations; clients never call it. - **Operations** (tag `operations`): health, this document, the Swagger UI.  ## Authentication  With a client token configured (`tessera serve --token-file <file>`, or `TESSERA_TOKEN`), every request of the client API carries `Authorization: Bearer <token>` (\"Authorize\" in the Swagger UI); otherwise it answers 401. A server that binds beyond loopback demands a token unless started with `--unauthenticated-clients`. The peer API and the operations take no token: peer envelopes carry their own authentication.  ## Errors  Every error is an RFC 9457 `application/problem+json` document with `type`, `title`, `status` and `detail`; also `code` and `message` (the same as `status` and `detail`), which v0.6 clients read, and `where`: the field, tensor or party at fault. `type` is a relative URI reference `/problems/<slug>` (RFC 9457 §3.1.1), one of `bad-input`, `unauthenticated`, `forbidden`, `not-found`, `method-not-allowed`, `not-acceptable`, `conflict`, `too-large`, `unsupported-media-type`, `limit-reached`, `internal`, `not-implemented`, `peer-failed`, `timeout`. Compare it as a string; it is not meant to be fetched.   # noqa: E501

    OpenAPI spec version: 0.1.0
    
    Generated by: https://github.com/swagger-api/swagger-codegen.git
"""

from __future__ import absolute_import

# import models into model package
from tessera_client.models.args_kwargs import ArgsKwargs
from tessera_client.models.call_response import CallResponse
from tessera_client.models.category import Category
from tessera_client.models.compute_call import ComputeCall
from tessera_client.models.compute_kwargs import ComputeKwargs
from tessera_client.models.description import Description
from tessera_client.models.health import Health
from tessera_client.models.kth_element_input import KthElementInput
from tessera_client.models.kth_element_record import KthElementRecord
from tessera_client.models.kth_element_result import KthElementResult
from tessera_client.models.kth_element_result_result import KthElementResultResult
from tessera_client.models.list_response import ListResponse
from tessera_client.models.matrix import Matrix
from tessera_client.models.min_max_record import MinMaxRecord
from tessera_client.models.minimum_maximum_input import MinimumMaximumInput
from tessera_client.models.minimum_maximum_result import MinimumMaximumResult
from tessera_client.models.minimum_maximum_result_result import MinimumMaximumResultResult
from tessera_client.models.named_tensors import NamedTensors
from tessera_client.models.network import Network
from tessera_client.models.none_response import NoneResponse
from tessera_client.models.object_response import ObjectResponse
from tessera_client.models.one_of_category import OneOfCategory
from tessera_client.models.one_of_kth_element_input import OneOfKthElementInput
from tessera_client.models.one_of_minimum_maximum_input import OneOfMinimumMaximumInput
from tessera_client.models.one_of_prepare_input_tensors import OneOfPrepareInputTensors
from tessera_client.models.one_of_secure_fed_avg_input_tensors import OneOfSecureFedAvgInputTensors
from tessera_client.models.one_of_secure_median_input import OneOfSecureMedianInput
from tessera_client.models.one_of_secure_sum_input import OneOfSecureSumInput
from tessera_client.models.one_of_statistics_frequency_input import OneOfStatisticsFrequencyInput
from tessera_client.models.one_of_statistics_univariate_input import OneOfStatisticsUnivariateInput
from tessera_client.models.pair import Pair
from tessera_client.models.peer_identity import PeerIdentity
from tessera_client.models.prepare_input import PrepareInput
from tessera_client.models.prepare_kwargs import PrepareKwargs
from tessera_client.models.prepared_status import PreparedStatus
from tessera_client.models.problem import Problem
from tessera_client.models.problem_errors import ProblemErrors
from tessera_client.models.readiness_check import ReadinessCheck
from tessera_client.models.representation_ref import RepresentationRef
from tessera_client.models.secure_fed_avg_input import SecureFedAvgInput
from tessera_client.models.secure_fed_avg_result import SecureFedAvgResult
from tessera_client.models.secure_matrix_multiplication_input import SecureMatrixMultiplicationInput
from tessera_client.models.secure_matrix_multiplication_result import SecureMatrixMultiplicationResult
from tessera_client.models.secure_matrix_multiplication_result_result import SecureMatrixMultiplicationResultResult
from tessera_client.models.secure_median_input import SecureMedianInput
from tessera_client.models.secure_median_result import SecureMedianResult
from tessera_client.models.secure_median_result_result import SecureMedianResultResult
from tessera_client.models.secure_sum_input import SecureSumInput
from tessera_client.models.secure_sum_result import SecureSumResult
from tessera_client.models.secure_sum_result_result import SecureSumResultResult
from tessera_client.models.set_intersection_input import SetIntersectionInput
from tessera_client.models.set_intersection_result import SetIntersectionResult
from tessera_client.models.set_intersection_result_result import SetIntersectionResultResult
from tessera_client.models.set_intersection_size_result import SetIntersectionSizeResult
from tessera_client.models.set_intersection_size_result_result import SetIntersectionSizeResultResult
from tessera_client.models.statistics_bivariate_input import StatisticsBivariateInput
from tessera_client.models.statistics_bivariate_result import StatisticsBivariateResult
from tessera_client.models.statistics_bivariate_result_result import StatisticsBivariateResultResult
from tessera_client.models.statistics_contingency_input import StatisticsContingencyInput
from tessera_client.models.statistics_contingency_result import StatisticsContingencyResult
from tessera_client.models.statistics_contingency_result_result import StatisticsContingencyResultResult
from tessera_client.models.statistics_contingency_vertical_input import StatisticsContingencyVerticalInput
from tessera_client.models.statistics_contingency_vertical_result import StatisticsContingencyVerticalResult
from tessera_client.models.statistics_contingency_vertical_result_result import StatisticsContingencyVerticalResultResult
from tessera_client.models.statistics_frequency_input import StatisticsFrequencyInput
from tessera_client.models.statistics_frequency_result import StatisticsFrequencyResult
from tessera_client.models.statistics_frequency_result_result import StatisticsFrequencyResultResult
from tessera_client.models.statistics_regression_ols_vertical_input import StatisticsRegressionOLSVerticalInput
from tessera_client.models.statistics_regression_ols_vertical_result import StatisticsRegressionOLSVerticalResult
from tessera_client.models.statistics_regression_ols_vertical_result_result import StatisticsRegressionOLSVerticalResultResult
from tessera_client.models.statistics_univariate_input import StatisticsUnivariateInput
from tessera_client.models.statistics_univariate_result import StatisticsUnivariateResult
from tessera_client.models.statistics_univariate_result_result import StatisticsUnivariateResultResult
from tessera_client.models.submit_kwargs import SubmitKwargs
from tessera_client.models.tensor_json import TensorJson
from tessera_client.models.tensor_manifest import TensorManifest
from tessera_client.models.tensor_spec import TensorSpec
from tessera_client.models.upload_request import UploadRequest
from tessera_client.models.uuid_response import UuidResponse
