"""The representation API of one party's server, in Federated Secure Computing's client surface.

    api = tessera.Api("http://127.0.0.1:55501")
    simon = api.create(protocol="Simon")
    result = simon.compute(microprotocol="SecureSum", data=19, network=network)
    print(api.download(result))          # {'inputs': 3, 'result': {'samples': 3, 'sum': 85.0}}

`create` gives a `Representation`; any attribute of it is the server-side member of that name, and
calling that member makes the call on the server (PATCH) and gives the result's representation.
That is how the v0.6 client of Federated Secure Computing reads, so its scripts run unchanged.

Every request goes through the client generated from openapi.yaml (`tessera_client`): its models,
its (de)serialisation and its urllib3 connection pool. Only the two binary requests (safetensors
up and down) use that pool directly, because the generated client serialises every body as JSON.
"""

import json

import tessera_client
import urllib3
from tessera_client.models import ArgsKwargs
from tessera_client.rest import ApiException

from . import safetensors
from .errors import TesseraError, TesseraUnreachableError

__all__ = ["Api", "Representation", "DEFAULT_TIMEOUT"]

# Seconds a request may take. A SIMON `compute` answers only once every party has given its input,
# so the default leaves the parties time to start; every wait still ends.
DEFAULT_TIMEOUT = 600.0
_CONNECT_TIMEOUT = 10.0


class Representation(object):
    """A server-side object named by a uuid: a microservice, a member, an uploaded value, a result.

    `rep.name` is the member `name` (a new Representation); calling a member calls it on the
    server: positional and keyword arguments travel as `{"args": [...], "kwargs": {...}}`, and a
    Representation among them as `{"representation_uuid": ...}`."""

    def __init__(self, api, uuid):
        self._api = api
        self.uuid = uuid

    def __getattr__(self, name):
        # Python asks for dunder and private names itself (copy, pickle, IPython); never send those.
        if name.startswith("_"):
            raise AttributeError(name)
        return self._api.attribute(self, name)

    def __call__(self, *args, **kwargs):
        return self._api.call(self, *args, **kwargs)

    def __repr__(self):
        return "Representation(%r at %s)" % (self.uuid, self._api.url)

    def __eq__(self, other):
        return isinstance(other, Representation) and other.uuid == self.uuid and other._api.url == self._api.url

    def __hash__(self):
        return hash((self.uuid, self._api.url))


class Api(object):
    """A client of one Tessera server (a party talks to its own).

    url:     the server's base URL, e.g. "http://127.0.0.1:55501".
    token:   the client bearer token, when the server demands one (`tessera serve --token-file`).
    timeout: seconds any one request may take (compute waits for all parties: be generous).
    """

    def __init__(self, url, token=None, timeout=DEFAULT_TIMEOUT):
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise TesseraError("the server URL must start with http:// or https://, got %r" % (url,), where="url")
        self.url = url.rstrip("/")
        self.timeout = float(timeout)
        configuration = tessera_client.Configuration()
        configuration.host = self.url
        if token:
            # swagger-codegen 3's Python client has no setting for HTTP bearer auth: a default header.
            self._client = tessera_client.ApiClient(configuration, header_name="Authorization",
                                                    header_value="Bearer " + token)
        else:
            self._client = tessera_client.ApiClient(configuration)
        self._representations = tessera_client.RepresentationsApi(self._client)

    # ---- the v0.6 surface ------------------------------------------------------------------

    def create(self, **requirements):
        """The microservice whose description has every key=value of `requirements`."""
        answer = self._request(self._representations.create_representation, ArgsKwargs(args=[], kwargs=requirements))
        return Representation(self, answer.uuid)

    def attribute(self, representation, name):
        """The member `name` of a representation (what `representation.name` gives)."""
        answer = self._request(self._representations.create_attribute, _uuid(representation), name)
        return Representation(self, answer.uuid)

    def call(self, representation, *args, **kwargs):
        """Calls a member; the result's Representation, or None when the member returns nothing."""
        body = ArgsKwargs(args=[_argument(a) for a in args], kwargs={k: _argument(v) for k, v in kwargs.items()})
        answer = self._request(self._representations.call_representation, body, _uuid(representation))
        return Representation(self, answer.uuid) if answer.type == "uuid" else None

    def upload(self, value):
        """Makes a JSON value available on the server; its Representation."""
        answer = self._request(self._representations.upload_representation, {"args": [_argument(value)], "kwargs": {}})
        return Representation(self, answer.uuid)

    def download(self, representation):
        """The JSON value a representation names (a result: {"inputs": n, "result": {...}})."""
        return self._request(self._representations.download_representation, _uuid(representation)).object

    def release(self, representation):
        """Frees a representation on the server."""
        self._request(self._representations.release_representation, _uuid(representation))

    def list(self):
        """The descriptions of the server's microservices."""
        return self._request(self._representations.list_representations).list

    # ---- tensors as safetensors ------------------------------------------------------------

    def upload_tensors(self, arrays, metadata=None):
        """{name: NumPy array} up as a safetensors file; its Representation."""
        response = self._binary("PUT", "/representations", "application/json", safetensors.encode(arrays, metadata))
        return Representation(self, json.loads(response.data.decode("utf-8"))["uuid"])

    def download_tensors(self, representation):
        """A tensor result down as safetensors: ({name: NumPy array}, {str: str} metadata)."""
        response = self._binary("GET", "/representation/%s" % _uuid(representation), "application/octet-stream")
        return safetensors.decode(response.data)

    # ---- plumbing ---------------------------------------------------------------------------

    def _timeout(self, timeout=None):
        # A (connect, read) pair: the generated rest.py turns only an int or a pair into a urllib3 Timeout.
        return (_CONNECT_TIMEOUT, float(timeout if timeout is not None else self.timeout))

    def _request(self, method, *args, **kwargs):
        kwargs.setdefault("_request_timeout", self._timeout())
        try:
            return method(*args, **kwargs)
        except ApiException as error:
            raise TesseraError.from_response(self.url, error.status, error.reason, error.body) from None
        except urllib3.exceptions.HTTPError as error:
            raise TesseraUnreachableError(self.url, _cause(error)) from None

    def _binary(self, method, path, accept, body=None):
        headers = dict(self._client.default_headers)
        headers["Accept"] = accept + ", application/problem+json"
        if body is not None:
            headers["Content-Type"] = "application/octet-stream"
        connect, read = self._timeout()
        try:
            response = self._client.rest_client.pool_manager.request(
                method, self.url + path, body=body, headers=headers, preload_content=True,
                timeout=urllib3.Timeout(connect=connect, read=read))
        except urllib3.exceptions.HTTPError as error:
            raise TesseraUnreachableError(self.url, _cause(error)) from None
        if not 200 <= response.status < 300:
            raise TesseraError.from_response(self.url, response.status, response.reason, response.data)
        return response


def _uuid(representation):
    return representation.uuid if isinstance(representation, Representation) else str(representation)


def _argument(value):
    """A Representation travels as {"representation_uuid": ...}; NumPy values as plain JSON."""
    if isinstance(value, Representation):
        return {"representation_uuid": value.uuid}
    if isinstance(value, dict):
        return {k: _argument(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_argument(v) for v in value]
    tolist = getattr(value, "tolist", None)  # NumPy arrays and scalars, torch tensors
    if callable(tolist) and not isinstance(value, (str, bytes)):
        return tolist()
    return value


def _cause(error):
    reason = getattr(error, "reason", None)
    return str(reason if reason is not None else error)
