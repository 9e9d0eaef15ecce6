from __future__ import absolute_import

# flake8: noqa

# import apis into api package
from tessera_client.api.operations_api import OperationsApi
from tessera_client.api.peer_api import PeerApi
from tessera_client.api.representations_api import RepresentationsApi
