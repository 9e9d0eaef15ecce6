#!/usr/bin/env python3
"""The classic SecureSum of Federated Secure Computing, on Tessera.

A script written for FSC's Python client needs one line changed: its `import federatedsecure.client`
becomes the import below, and everything else (Api(url), create(protocol="Simon"),
compute(microprotocol=..., data=..., network=...), download) reads as before.

    # three servers, then three parties in parallel:
    python3 examples/python/classic_secure_sum.py 0 19 &
    python3 examples/python/classic_secure_sum.py 1 5 &
    python3 examples/python/classic_secure_sum.py 2 61
    # each prints {'inputs': 3, 'result': {'samples': 3, 'sum': 85.0}}
"""

import sys

import tessera as federatedsecure  # was: import federatedsecure.client

NODES = ["http://127.0.0.1:55501", "http://127.0.0.1:55502", "http://127.0.0.1:55503"]
NETWORK_UUID = "387a7282-c380-44c9-aede-08da7e931931"  # any string all parties share

if __name__ == "__main__":
    myself = int(sys.argv[1])  # this party's index into NODES
    secret = int(sys.argv[2])  # this party's private number
    api = federatedsecure.client.Api(NODES[myself])
    simon = api.create(protocol="Simon")
    result = simon.compute(microprotocol="SecureSum", data=secret,
                           network={"nodes": NODES, "uuid": NETWORK_UUID, "myself": myself})
    print(api.download(result))
