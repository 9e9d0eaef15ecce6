#!/usr/bin/env python3
"""SecureSum between three parties with the Python client generated from openapi.yaml.

This is the classic Federated Secure Computing example: each party runs this script against its
own Tessera server with its own secret; every party learns the sum (and the count), nobody learns
another party's secret.

    # three servers (three terminals)
    npx tessera serve --port 55501
    npx tessera serve --port 55502
    npx tessera serve --port 55503

    # three parties, in parallel (each one waits for the others)
    export PYTHONPATH=clients/python
    /usr/bin/python3 examples/python/secure_sum.py 0 19 &
    /usr/bin/python3 examples/python/secure_sum.py 1 5 &
    /usr/bin/python3 examples/python/secure_sum.py 2 61 &
    wait        # each prints: party N: sum 85.0 over 3 samples from 3 parties

Options: --nodes URL,URL,URL (the servers, in the same order for every party; default the three
above), --uuid (the computation's network uuid: every party must pass the same one; reusing it
for consecutive computations is fine), --token (a client token, when the server demands one),
--json (print the result as JSON), --timeout SECONDS.

The client is generated (`npm run clients:generate -- python`), never edited. The script uses its
typed models (ArgsKwargs, ComputeKwargs, Network, SecureSumResult), not raw dicts.
"""

import argparse
import json
import sys

import urllib3

import tessera_client
from tessera_client.models import ArgsKwargs, ComputeKwargs, Network, SecureSumResult
from tessera_client.rest import ApiException

DEFAULT_NODES = ["http://127.0.0.1:55501", "http://127.0.0.1:55502", "http://127.0.0.1:55503"]
# The classic example hard-codes one network uuid for all parties; so do we (override with --uuid).
DEFAULT_UUID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


class _JsonBody(object):
    """What ApiClient.deserialize reads (a response's `.data`): lets a downloaded JSON value be
    turned into a generated model with the client's own, public deserializer."""

    def __init__(self, value):
        self.data = json.dumps(value)


def parse_args(argv):
    parser = argparse.ArgumentParser(description="SecureSum with the generated Tessera Python client")
    parser.add_argument("myself", type=int, help="this party's index in --nodes (0, 1, 2, ...)")
    parser.add_argument("secret", type=float, help="this party's secret number")
    parser.add_argument("--nodes", default=",".join(DEFAULT_NODES),
                        help="comma-separated server URLs, the same list in the same order for every party")
    parser.add_argument("--uuid", default=DEFAULT_UUID, help="the network uuid every party passes")
    parser.add_argument("--token", default=None, help="client bearer token, if the server demands one")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the result")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON line")
    args = parser.parse_args(argv)
    args.nodes = [node.strip() for node in args.nodes.split(",") if node.strip()]
    if not 0 <= args.myself < len(args.nodes):
        parser.error("myself must be an index into --nodes (0..%d)" % (len(args.nodes) - 1))
    # 19 stays the integer 19 on the wire, as in the classic example.
    if args.secret.is_integer():
        args.secret = int(args.secret)
    return args


def problem_text(error):
    """The RFC 9457 problem the server answered, in one line: status, detail and where."""
    try:
        problem = json.loads(error.body)
        where = (" (at %s)" % problem["where"]) if problem.get("where") else ""
        return "%s %s: %s%s" % (problem.get("status", error.status), problem.get("title", ""),
                                problem.get("detail", ""), where)
    except (TypeError, ValueError, KeyError):
        return "%s %s" % (error.status, error.reason)


def secure_sum(api, api_client, myself, secret, nodes, uuid, timeout):
    """create(protocol="Simon") -> attribute "compute" -> call -> download, as the v0.6 client does."""
    simon = api.create_representation(ArgsKwargs(args=[], kwargs={"protocol": "Simon"})).uuid
    compute = api.create_attribute(simon, "compute").uuid
    kwargs = ComputeKwargs(microprotocol="SecureSum", data=secret,
                           network=Network(nodes=nodes, uuid=uuid, myself=myself))
    # The call returns when every party has given its input and the sum is known.
    called = api.call_representation(ArgsKwargs(args=[], kwargs=kwargs), compute, _request_timeout=timeout)
    if called.type != "uuid":
        raise RuntimeError("compute returned no result (type %r)" % called.type)
    downloaded = api.download_representation(called.uuid)
    result = api_client.deserialize(_JsonBody(downloaded.object), "SecureSumResult")
    # Representations live on the server until released: free what this party made.
    for representation in (called.uuid, compute, simon):
        api.release_representation(representation)
    return result


def main(argv):
    args = parse_args(argv)
    configuration = tessera_client.Configuration()
    configuration.host = args.nodes[args.myself]
    # swagger-codegen 3's Python client has no setting for HTTP bearer auth: pass the header.
    if args.token:
        api_client = tessera_client.ApiClient(configuration, header_name="Authorization",
                                              header_value="Bearer " + args.token)
    else:
        api_client = tessera_client.ApiClient(configuration)
    api = tessera_client.RepresentationsApi(api_client)
    try:
        result = secure_sum(api, api_client, args.myself, args.secret, args.nodes, args.uuid, args.timeout)
    except ApiException as error:
        print("party %d: the server at %s answered %s" % (args.myself, configuration.host, problem_text(error)),
              file=sys.stderr)
        return 1
    except urllib3.exceptions.HTTPError as error:
        print("party %d: cannot reach %s: %s" % (args.myself, configuration.host, error), file=sys.stderr)
        return 1
    assert isinstance(result, SecureSumResult)
    if args.json:
        print(json.dumps(result.to_dict(), sort_keys=True))
    else:
        print("party %d: sum %s over %d samples from %d parties"
              % (args.myself, result.result.sum, result.result.samples, result.inputs))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
