#!/usr/bin/env python3
"""SecureFedAvg between parties with NumPy models and the Python client generated from openapi.yaml.

Each party holds a model (named NumPy arrays, float32 or float64) and its number of training
examples n_k. Every party receives the weighted average sum_k n_k * w_k / sum_k n_k, tensor by
tensor; no server sees another party's model, only masked values (docs/architecture.md §4, SecureFedAvg).

    # three servers (three terminals)
    npx tessera serve --port 55501
    npx tessera serve --port 55502
    npx tessera serve --port 55503

    # three parties, in parallel; here each "trains" a small model from its seed
    export PYTHONPATH=clients/python
    /usr/bin/python3 examples/python/fedavg.py 0 --weight 120 --seed 1 &
    /usr/bin/python3 examples/python/fedavg.py 1 --weight 80 --seed 2 &
    /usr/bin/python3 examples/python/fedavg.py 2 --weight 200 --seed 3 --save averaged.safetensors &
    wait

The model goes up as a safetensors file (the format PyTorch, NumPy and Hugging Face users already
save models in) and the average comes back as one; `--model FILE.safetensors` uploads a model
of your own instead of the seeded one; `--ring-bits 40` sends 5 bytes per parameter instead of 8
for values within +-32767. Options as in secure_sum.py: --nodes, --uuid, --token, --timeout,
--json; --requirements picks the microservice (default {"protocol": "Simon"}).
"""

import argparse
import json
import sys

import numpy as np
import urllib3

import tessera_client
from tessera_client.models import ArgsKwargs, ComputeKwargs, Network, RepresentationRef, SecureFedAvgInput
from tessera_client.rest import ApiException

import tessera_tensors

DEFAULT_NODES = ["http://127.0.0.1:55501", "http://127.0.0.1:55502", "http://127.0.0.1:55503"]
DEFAULT_UUID = "6f0d3c1e-2b8a-4f7e-9c55-1d2e3f4a5b6c"


def seeded_model(seed):
    """A small two-layer model, as if trained locally: mixed dtypes and shapes."""
    rng = np.random.default_rng(seed)
    return {
        "layer1.weight": rng.standard_normal((4, 3)).astype(np.float32),
        "layer1.bias": rng.standard_normal(3).astype(np.float32),
        "layer2.weight": rng.standard_normal((3, 2)),  # float64
    }


def parse_args(argv):
    parser = argparse.ArgumentParser(description="SecureFedAvg with NumPy and the generated Tessera Python client")
    parser.add_argument("myself", type=int, help="this party's index in --nodes")
    parser.add_argument("--weight", type=float, required=True, help="this party's number of training examples (> 0)")
    parser.add_argument("--seed", type=int, default=None, help="make the seeded example model (default: the party index)")
    parser.add_argument("--model", default=None, help="a .safetensors file to average instead of the seeded model")
    parser.add_argument("--save", default=None, help="write the averaged model to this .safetensors file")
    parser.add_argument("--nodes", default=",".join(DEFAULT_NODES), help="comma-separated server URLs, same order for all")
    parser.add_argument("--uuid", default=DEFAULT_UUID, help="the network uuid every party passes")
    parser.add_argument("--microprotocol", default="SecureFedAvg", help="SecureFedAvg (or PlainFedAvg, insecure baseline)")
    parser.add_argument("--ring-bits", type=int, default=None, choices=[64, 48, 40, 32],
                        help="SecureFedAvg's ring: 64 (default), 48, 40 or 32; a party sends ring-bits/8 bytes "
                             "per parameter, and values must stay within the ring's range (README)")
    parser.add_argument("--requirements", default='{"protocol": "Simon"}', help="JSON requirements of the microservice")
    parser.add_argument("--token", default=None, help="client bearer token, if the server demands one")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the result")
    parser.add_argument("--json", action="store_true",
                        help="print the input, the averaged model and the result's metadata as JSON")
    args = parser.parse_args(argv)
    args.nodes = [node.strip() for node in args.nodes.split(",") if node.strip()]
    if not 0 <= args.myself < len(args.nodes):
        parser.error("myself must be an index into --nodes (0..%d)" % (len(args.nodes) - 1))
    if not args.weight > 0:
        parser.error("--weight must be > 0")
    if args.weight.is_integer():
        args.weight = int(args.weight)
    args.requirements = json.loads(args.requirements)
    return args


def fed_avg(api, api_client, myself, model, weight, nodes, uuid, microprotocol, requirements, timeout, ring_bits=None):
    """Upload the model, call compute on the representation of it, download the average."""
    uploaded = tessera_tensors.upload_tensors(api_client, model, timeout=timeout)
    service = api.create_representation(ArgsKwargs(args=[], kwargs=requirements)).uuid
    compute = api.create_attribute(service, "compute").uuid
    # data.tensors names the uploaded safetensors by its representation: the server resolves it.
    data = SecureFedAvgInput(tensors=RepresentationRef(representation_uuid=uploaded), weight=weight)
    kwargs = ComputeKwargs(microprotocol=microprotocol, data=data,
                           network=Network(nodes=nodes, uuid=uuid, myself=myself), ring_bits=ring_bits)
    called = api.call_representation(ArgsKwargs(args=[], kwargs=kwargs), compute, _request_timeout=timeout)
    if called.type != "uuid":
        raise RuntimeError("compute returned no result (type %r)" % called.type)
    averaged, metadata = tessera_tensors.download_tensors(api_client, called.uuid, timeout=timeout, with_metadata=True)
    for representation in (called.uuid, compute, service, uploaded):
        api.release_representation(representation)
    return averaged, metadata


def main(argv):
    args = parse_args(argv)
    if args.model:
        with open(args.model, "rb") as f:
            model = tessera_tensors.from_safetensors(f.read())
    else:
        model = seeded_model(args.myself if args.seed is None else args.seed)

    configuration = tessera_client.Configuration()
    configuration.host = args.nodes[args.myself]
    if args.token:
        api_client = tessera_client.ApiClient(configuration, header_name="Authorization",
                                              header_value="Bearer " + args.token)
    else:
        api_client = tessera_client.ApiClient(configuration)
    api = tessera_client.RepresentationsApi(api_client)
    try:
        averaged, metadata = fed_avg(api, api_client, args.myself, model, args.weight, args.nodes, args.uuid,
                           args.microprotocol, args.requirements, args.timeout, args.ring_bits)
    except ApiException as error:
        print("party %d: the server at %s answered %s" % (args.myself, configuration.host, problem_text(error)),
              file=sys.stderr)
        return 1
    except urllib3.exceptions.HTTPError as error:
        print("party %d: cannot reach %s: %s" % (args.myself, configuration.host, error), file=sys.stderr)
        return 1

    if args.save:
        with open(args.save, "wb") as f:
            f.write(tessera_tensors.to_safetensors(averaged))
    if args.json:
        as_json = lambda tensors: {name: {"dtype": str(a.dtype), "shape": list(a.shape), "data": a.ravel().tolist()}
                                   for name, a in sorted(tensors.items())}
        print(json.dumps({"weight": args.weight, "input": as_json(model), "average": as_json(averaged),
                          "metadata": metadata}))
    else:
        for name, array in sorted(averaged.items()):
            print("party %d: %s %s %s mean %.6f" % (args.myself, name, array.dtype, list(array.shape), array.mean()))
    return 0


def problem_text(error):
    """The RFC 9457 problem the server answered, in one line: status, detail and where."""
    try:
        problem = json.loads(error.body)
        where = (" (at %s)" % problem["where"]) if problem.get("where") else ""
        return "%s %s: %s%s" % (problem.get("status", error.status), problem.get("title", ""),
                                problem.get("detail", ""), where)
    except (TypeError, ValueError, KeyError):
        return "%s %s" % (error.status, error.reason)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
