"""One party of a test scenario, run by test/clients/python/*.test.ts against real servers.

    python3 party.py SCENARIO MYSELF NODES UUID [ARG]   -> one JSON line on stdout

Each scenario uses only the public surface of the `tessera` package. An exception is printed as
JSON too ({"error": {...}}), so the test can check what a user would see.
"""

import json
import sys

import numpy as np

import tessera


def torch_model(myself):
    import torch

    torch.manual_seed(1000 + myself)  # every party starts from a different model
    return torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 2))


def state(model):
    return {name: t.detach().numpy().astype(float).tolist() for name, t in model.state_dict().items()}


def fedavg_torch(network, arg):
    """Two rounds of update_model on a torch.nn.Module; the second round prepared in advance."""
    myself = network.myself
    weight = [120, 80, 200][myself]
    model = torch_model(myself)
    events = []
    client = tessera.FedAvgClient(network, weight=weight, prepare_next=True, rounds=2,
                                  progress=lambda event, info: events.append([event, info["round"]]))
    before = state(model)
    parameter = model[0].weight
    returned = client.update_model(model)
    after_first = state(model)
    # Round 2: each party "trains" (moves its weights by its own index), then averages again.
    with __import__("torch").no_grad():
        for p in model.parameters():
            p.add_(float(myself + 1))
    before_second = state(model)
    client.update_model(model, weight=weight + 10 * myself)
    client.close()
    return {"weight": weight, "before": before, "after_first": after_first, "before_second": before_second,
            "after_second": state(model), "same_module": returned is model, "same_parameter": model[0].weight is parameter,
            "prepared": client.last_round["prepared"], "events": events}


def fedavg_numpy(network, arg):
    rng = np.random.default_rng(7 + network.myself)
    model = {"w": rng.normal(size=(3, 2)).astype(np.float32), "b": rng.normal(size=2)}
    weight = [1.5, 2.5, 4.0][network.myself]
    before = {k: v.tolist() for k, v in model.items()}
    alias = model["w"]
    # arg: a microprotocol, optionally with a ring width ("SecureFedAvg:40").
    microprotocol, _, ring = (arg or "SecureFedAvg").partition(":")
    tessera.FedAvgClient(network, weight=weight, microprotocol=microprotocol,
                         ring_bits=int(ring) if ring else None).update_model(model)
    return {"weight": weight, "before": before, "after": {k: v.tolist() for k, v in model.items()},
            "in_place": alias is model["w"], "dtypes": {k: str(v.dtype) for k, v in model.items()}}


def secure_sum(network, arg):
    spec = json.loads(arg)
    return tessera.secure_sum(spec["data"], network, token=spec.get("token"))


def bad_input(network, arg):
    # Through the generic compute: the package's own typed function would refuse it before sending.
    return tessera.compute("SecureSum", ["12", 3], network)


def statistic(network, arg):
    """A SIMON function chosen by name, called against `api` at the URL given (the test's proxy)."""
    spec = json.loads(arg)
    api = tessera.Api(spec["url"])
    function = tessera.MICROPROTOCOLS[spec["microprotocol"]]
    return function(*spec["args"], network=network, api=api, **spec.get("kwargs", {}))


SCENARIOS = {"fedavg-torch": fedavg_torch, "fedavg-numpy": fedavg_numpy, "secure-sum": secure_sum,
             "bad-input": bad_input, "statistic": statistic}


def main(argv):
    scenario, myself, nodes, uuid = argv[:4]
    arg = argv[4] if len(argv) > 4 else None
    network = tessera.Network(nodes.split(","), uuid, int(myself))
    try:
        out = {"ok": SCENARIOS[scenario](network, arg)}
    except tessera.TesseraError as error:
        out = {"error": {"class": type(error).__name__, "message": str(error), "status": error.status,
                         "detail": error.detail, "where": error.where, "type": error.type, "url": error.url}}
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1:])
