"""One party's client for bench/fsc-original.ts: FSC's unmodified Python client, long-lived.

Each line on stdin is one computation, {"nodes", "uuid", "myself", "microprotocol", "data"}; the
answer is one line on stdout, {"ok": true, "result": ...} or {"ok": false, "error": ...}. The
calls are those of FSC's own example (service-simon example/secure_sum/secure_sum.py): create the
Simon microservice, compute, download; then the result is released, so that neither server
keeps a growing store over hundreds of sums. The same calls go to Tessera and to the original,
so both are measured through the same client. `federatedsecure.client` comes from the user's
client-python checkout (PYTHONPATH, set by the bench); nothing of FSC is part of this repository.
"""

import json
import sys

import federatedsecure.client


def run(job):
    api = federatedsecure.client.Api(job["nodes"][job["myself"]])
    microservice = api.create(protocol="Simon")
    network = {"nodes": job["nodes"], "uuid": job["uuid"], "myself": job["myself"]}
    result = microservice.compute(microprotocol=job["microprotocol"], data=job["data"], network=network)
    value = api.download(result)
    api.release(result["representation_uuid"])
    return value


for line in sys.stdin:
    try:
        answer = {"ok": True, "result": run(json.loads(line))}
    except Exception as error:  # pylint: disable=broad-except
        # FSC's client raises RuntimeError with the status and body of a failed request.
        answer = {"ok": False, "error": str(error)[:500]}
    print(json.dumps(answer), flush=True)
