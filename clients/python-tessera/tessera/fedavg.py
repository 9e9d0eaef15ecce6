"""Federated averaging in one line of a training loop.

    fedavg = tessera.FedAvgClient(network, weight=len(train_set), prepare_next=True, rounds=10)
    for round in range(10):
        train_one_epoch(model)
        fedavg.update_model(model)      # model now holds Σ n_k·w_k / Σ n_k, in place
    fedavg.close()

`update_model` takes a torch.nn.Module, a state_dict, or a dict of NumPy arrays. Its float32 and
float64 tensors go up as one safetensors file, the parties' servers average them with SecureFedAvg
(pairwise masks, so no server sees another party's model), and the average comes down as
safetensors and is written into the model's own tensors. Integer buffers stay as they are.

Round r runs under the network uuid `round_uuid(network.uuid, start_round + r)`, so the parties
agree on it by counting rounds, exactly as the TypeScript client does (clients/typescript/fedavg.ts):
Python and TypeScript parties can train together.

With `prepare_next=True`, as soon as a round ends the next one is announced to the server
(Simon's `prepare`): the parties agree on the tensors and expand their masks while the model
trains, and `update_model` then only runs the online part (the prepared computation's `submit`).
"""

import hashlib
import time
import uuid as _uuid
from concurrent.futures import ThreadPoolExecutor

from .api import DEFAULT_TIMEOUT, Api
from .errors import TesseraError, TesseraInputError
from .simon import _api, _network, _release
from .tensors import averageable, named_arrays, write_back

__all__ = ["FedAvgClient", "secure_fedavg", "plain_fedavg", "round_uuid"]

_MICROPROTOCOLS = ("SecureFedAvg", "PlainFedAvg")
_SPEC_NAMES = {"float32": "F32", "float64": "F64"}


def round_uuid(base, round_number):
    """The network uuid of round `round_number`: SHA-256 over a domain-separated encoding of
    (base, round), laid out as a name-based UUID version 8 (RFC 9562 §5.8; its Appendix B.2 uses
    SHA-256 the same way). It names the computation only; no mask derives from it."""
    if not isinstance(base, str) or not base:
        raise TesseraInputError("the base uuid must be a non-empty string", where="network.uuid")
    if isinstance(round_number, bool) or not isinstance(round_number, int) or round_number < 0:
        raise TesseraInputError("a round is a non-negative integer", where="round")
    digest = bytearray(hashlib.sha256(("tessera/fedavg-round/v1\0%s\0%d" % (base, round_number)).encode("utf-8")).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x80  # version 8
    digest[8] = (digest[8] & 0x3F) | 0x80  # variant 10 (RFC 9562 §4.1)
    return str(_uuid.UUID(bytes=bytes(digest)))


def _check_weight(weight):
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0 or weight != weight or weight == float("inf"):
        raise TesseraInputError("weight must be a finite number > 0 (this party's number of examples)", where="weight")
    return weight


# The server's rings (openapi.yaml ComputeKwargs.ring_bits): a party sends ring_bits/8 bytes per
# parameter, so 48 and 40 cost less bandwidth than 64 for a range of +-32767 (see the README).
_RING_BITS = (64, 48, 40, 32)


def _check_protocol(microprotocol, ring_bits):
    if microprotocol not in _MICROPROTOCOLS:
        raise TesseraInputError("microprotocol must be SecureFedAvg or PlainFedAvg", where="microprotocol")
    if ring_bits is None:
        return {"microprotocol": microprotocol}
    if microprotocol == "PlainFedAvg":
        raise TesseraInputError("ring_bits applies to SecureFedAvg only", where="ring_bits")
    if ring_bits not in _RING_BITS:
        raise TesseraInputError("ring_bits is 64, 48, 40 or 32", where="ring_bits")
    return {"microprotocol": microprotocol, "ring_bits": ring_bits}


def _manifest(arrays):
    return {name: {"dtype": _SPEC_NAMES[str(a.dtype)], "shape": list(a.shape)} for name, a in sorted(arrays.items())}


def _average(api, protocol, arrays, weight, network_json, timeout):
    """One FedAvg computation of `arrays`; the average {name: NumPy array} and its metadata."""
    uploaded = api.upload_tensors(arrays)
    try:
        simon = api.create(protocol="Simon")
        try:
            member = simon.compute
            try:
                result = member(data={"tensors": uploaded, "weight": weight}, network=network_json, **protocol)
            finally:
                _release(api, member)
        finally:
            _release(api, simon)
        return _download(api, result, arrays)
    finally:
        _release(api, uploaded)


def _download(api, result, sent):
    if result is None:
        raise TesseraError("the FedAvg call returned no result", url=api.url)
    try:
        averaged, metadata = api.download_tensors(result)
    finally:
        _release(api, result)
    if _manifest(averaged) != _manifest(sent):
        raise TesseraError("the averaged model's tensors differ from the model sent", url=api.url, where="tensors")
    return averaged, metadata


def secure_fedavg(model, weight, network, api=None, token=None, timeout=DEFAULT_TIMEOUT, ring_bits=None):
    """Σ n_k·w_k / Σ n_k of every party's model (module, state_dict or dict of arrays) with weight
    n_k, by SecureFedAvg: {name: NumPy array} of the float tensors. The model is not changed."""
    network = _network(network)
    arrays = averageable(named_arrays(model))
    averaged, _ = _average(_api(network, api, token, timeout), _check_protocol("SecureFedAvg", ring_bits), arrays,
                           _check_weight(weight), network.to_json(), timeout)
    return averaged


def plain_fedavg(model, weight, network, api=None, token=None, timeout=DEFAULT_TIMEOUT):
    """As secure_fedavg, by PlainFedAvg: the INSECURE baseline (every party's scaled model
    travels in clear). For comparisons and benchmarks only, never for private models."""
    network = _network(network)
    arrays = averageable(named_arrays(model))
    averaged, _ = _average(_api(network, api, token, timeout), _check_protocol("PlainFedAvg", None), arrays,
                           _check_weight(weight), network.to_json(), timeout)
    return averaged


class FedAvgClient(object):
    """Federated averaging across rounds for one party's training loop.

    network:      nodes and myself as for any computation; `uuid` is the base every round's uuid
                  derives from (the same at every party).
    weight:       this party's weight n_k, usually its number of training examples;
                  `update_model(model, weight=n)` overrides it for one round.
    microprotocol: "SecureFedAvg" (default) or "PlainFedAvg" (INSECURE baseline, to compare with).
    prepare_next: announce the next round as soon as one ends, so its masks are ready when the
                  model is (call close() at the end, or pass `rounds`).
    rounds:       the number of rounds, if known: no round past the last is announced.
    start_round:  the first round's number (a party that restarts resumes where the others are).
    progress:     called as progress(event, info) with event "upload", "average", "done" or
                  "announced", and info {"round": r, ...} ("done" adds "seconds" and "metadata").
    api, token, timeout: the server (default nodes[myself]), its bearer token, seconds per request.
    """

    def __init__(self, network, weight, microprotocol="SecureFedAvg", ring_bits=None, prepare_next=False,
                 rounds=None, start_round=0, progress=None, api=None, token=None, timeout=DEFAULT_TIMEOUT):
        self._network = _network(network)
        self._weight = _check_weight(weight)
        self._protocol = _check_protocol(microprotocol, ring_bits)
        if isinstance(start_round, bool) or not isinstance(start_round, int) or start_round < 0:
            raise TesseraInputError("start_round must be a non-negative integer", where="start_round")
        self._api = _api(self._network, api, token, timeout)
        self._timeout = float(timeout)
        self._prepare_next = bool(prepare_next)
        self._rounds = rounds
        self._start = start_round
        self._round = start_round
        self._progress = progress
        self._announced = None  # (round, manifest, Future of the prepared Representation)
        self._executor = None
        self._closed = False
        self.last_round = None

    @property
    def round(self):
        """The number of the round the next update_model runs."""
        return self._round

    def _report(self, event, **info):
        if self._progress is not None:
            self._progress(event, info)

    def _round_network(self, number):
        return {"nodes": list(self._network.nodes), "uuid": round_uuid(self._network.uuid, number),
                "myself": self._network.myself}

    def update_model(self, model, weight=None):
        """Averages the model with the other parties' and writes the average into it; returns it.

        Every party calls this once per round, in the same order."""
        if self._closed:
            raise TesseraInputError("this FedAvgClient is closed", where="update_model")
        weight = _check_weight(self._weight if weight is None else weight)
        arrays = averageable(named_arrays(model))
        number = self._round
        # The round is spent whether it succeeds or not, so the parties' counters stay in step.
        self._round += 1
        started = time.monotonic()
        announced, self._announced = self._announced, None
        prepared = None
        if announced is not None:
            a_round, a_manifest, future = announced
            prepared = future.result(timeout=self._timeout)
            if a_round != number or a_manifest != _manifest(arrays):
                self._cancel(prepared)
                raise TesseraInputError("the model's tensors changed since round %d was announced "
                                        "(prepare_next needs the same names, shapes and dtypes)" % number, where="tensors")
        self._report("upload", round=number)
        uploaded = self._api.upload_tensors(arrays)
        try:
            data = {"tensors": uploaded, "weight": weight}
            self._report("average", round=number, prepared=prepared is not None)
            if prepared is not None:
                try:
                    submit = prepared.submit
                    try:
                        # The server waits this long for the other parties' models (they may still train).
                        result = submit(data=data, timeout=max(1, int(self._timeout)))
                    finally:
                        _release(self._api, submit)
                finally:
                    _release(self._api, prepared)
            else:
                simon = self._api.create(protocol="Simon")
                try:
                    member = simon.compute
                    try:
                        result = member(data=data, network=self._round_network(number), **self._protocol)
                    finally:
                        _release(self._api, member)
                finally:
                    _release(self._api, simon)
            averaged, metadata = _download(self._api, result, arrays)
        finally:
            _release(self._api, uploaded)
        write_back(model, averaged)
        self.last_round = {"round": number, "prepared": prepared is not None, "metadata": metadata}
        self._report("done", round=number, seconds=time.monotonic() - started, metadata=metadata)
        if self._prepare_next and (self._rounds is None or number + 1 < self._start + self._rounds):
            self._announce(number + 1, arrays)
        return model

    def _announce(self, number, arrays):
        """Starts preparing round `number` in a background thread; update_model picks it up."""
        manifest = _manifest(arrays)
        kwargs = dict(self._protocol, data={"manifest": manifest}, network=self._round_network(number))

        def prepare():
            simon = self._api.create(protocol="Simon")
            try:
                member = simon.prepare
                try:
                    return member(**kwargs)
                finally:
                    _release(self._api, member)
            finally:
                _release(self._api, simon)

        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tessera-prepare")
        self._announced = (number, manifest, self._executor.submit(prepare))
        self._report("announced", round=number)

    def _cancel(self, prepared):
        try:
            cancel = prepared.cancel
            try:
                cancel()
            finally:
                _release(self._api, cancel)
        except TesseraError:
            pass
        finally:
            _release(self._api, prepared)

    def close(self):
        """Cancels a round announced in advance that no update_model will use. The other parties'
        announcements of that round then fail, naming this party, which ends theirs too."""
        self._closed = True
        announced, self._announced = self._announced, None
        if announced is not None:
            try:
                prepared = announced[2].result(timeout=self._timeout)
            except Exception:  # noqa: BLE001 - never prepared: nothing is left on the server
                prepared = None
            if prepared is not None:
                self._cancel(prepared)
        if self._executor is not None:
            self._executor.shutdown(wait=False)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
