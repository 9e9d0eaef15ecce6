"""Tessera from Python: secure computation between parties' servers.

    import tessera
    network = tessera.Network(nodes=[url0, url1, url2], uuid="shared-name", myself=0)
    tessera.secure_sum(19, network)                      # {'samples': 3, 'sum': 85.0}

    fedavg = tessera.FedAvgClient(network, weight=len(train_set))
    fedavg.update_model(model)                           # a torch.nn.Module, averaged in place

Federated Secure Computing's client surface works too (`import tessera as federatedsecure` and
its scripts run unchanged): tessera.client.Api(url).create(protocol="Simon").compute(...).
"""

from . import client, safetensors
from .api import DEFAULT_TIMEOUT, Api, Representation
from .errors import TesseraError, TesseraInputError, TesseraUnreachableError
from .fedavg import FedAvgClient, plain_fedavg, round_uuid, secure_fedavg
from .simon import (
    MICROPROTOCOLS, Network, compute, kth_element, minimum_maximum, secure_matrix_multiplication, secure_median,
    secure_sum, set_intersection, set_intersection_size, statistics_bivariate, statistics_contingency,
    statistics_contingency_vertical, statistics_frequency, statistics_regression_ols_vertical, statistics_univariate,
)

__version__ = "0.1.0"

__all__ = [
    "Api", "Representation", "DEFAULT_TIMEOUT", "TesseraError", "TesseraInputError", "TesseraUnreachableError",
    "Network", "compute", "MICROPROTOCOLS", "FedAvgClient", "secure_fedavg", "plain_fedavg", "round_uuid",
    "secure_sum", "secure_matrix_multiplication", "secure_median", "kth_element", "minimum_maximum",
    "set_intersection", "set_intersection_size", "statistics_univariate", "statistics_bivariate",
    "statistics_frequency", "statistics_contingency", "statistics_contingency_vertical",
    "statistics_regression_ols_vertical", "client", "safetensors",
]
