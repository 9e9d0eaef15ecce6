"""NumPy arrays to and from a Tessera server as safetensors, next to the generated client.

safetensors (https://github.com/huggingface/safetensors, "Format"): an 8-byte little-endian
unsigned header length N, then N bytes of JSON header `{name: {"dtype", "shape",
"data_offsets": [begin, end]}}` (offsets relative to the byte after the header, tensors packed
without gaps), then the raw little-endian row-major data. Written here with NumPy only, so no
extra package is needed; the header is padded with spaces to a multiple of 8 bytes, as the
reference implementation does, so the data stays aligned.

Why not through a generated method: swagger-codegen 3's Python client serialises every request
body as JSON (its rest.py refuses a bytes body) and always asks for every media type an operation
lists. These two helpers make the binary requests with the generated client's own configured
ApiClient (its host, headers, TLS settings and connection pool), so a token or a certificate set
on the client applies here too.
"""

import json
import struct

import numpy as np

# Tessera's tensors are float32 or float64 (docs/architecture.md §4, SecureFedAvg).
_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}
_NAMES = {np.dtype("float32"): "F32", np.dtype("float64"): "F64"}


def to_safetensors(tensors):
    """{name: np.ndarray (float32/float64)} -> bytes of a safetensors file (names sorted)."""
    header = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        array = np.asarray(tensors[name])
        if array.dtype not in _NAMES:
            raise ValueError("tensor %r: dtype %s is not float32 or float64" % (name, array.dtype))
        data = np.ascontiguousarray(array, dtype=_DTYPES[_NAMES[array.dtype]]).tobytes()
        header[name] = {"dtype": _NAMES[array.dtype], "shape": list(array.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    encoded += b" " * (-len(encoded) % 8)
    return struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks)


def from_safetensors(blob):
    """bytes of a safetensors file -> {name: np.ndarray} (copies, native byte order)."""
    if len(blob) < 8:
        raise ValueError("safetensors: shorter than its 8-byte header length")
    (length,) = struct.unpack_from("<Q", blob, 0)
    if 8 + length > len(blob):
        raise ValueError("safetensors: header length %d beyond the end of the file" % length)
    header = json.loads(blob[8:8 + length].decode("utf-8"))
    data = memoryview(blob)[8 + length:]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(entry["dtype"])
        if dtype is None:
            raise ValueError("tensor %r: dtype %s is not F32 or F64" % (name, entry["dtype"]))
        begin, end = entry["data_offsets"]
        array = np.frombuffer(data[begin:end], dtype=dtype).reshape(entry["shape"])
        tensors[name] = array.astype(dtype.newbyteorder("="), copy=True)
    return tensors


def _binary_request(api_client, method, path, accept, body=None, timeout=None):
    configuration = api_client.configuration
    headers = dict(api_client.default_headers)
    headers["Accept"] = accept + ", application/problem+json"
    if body is not None:
        headers["Content-Type"] = "application/octet-stream"
    response = api_client.rest_client.pool_manager.request(
        method, configuration.host + path, body=body, headers=headers, preload_content=True,
        timeout=timeout)
    if not 200 <= response.status < 300:
        from tessera_client.rest import ApiException, RESTResponse
        raise ApiException(http_resp=RESTResponse(response))
    return response


def upload_tensors(api_client, tensors, timeout=None):
    """PUT /representations with a safetensors body; returns the new representation's uuid."""
    response = _binary_request(api_client, "PUT", "/representations", "application/json",
                               to_safetensors(tensors), timeout)
    answer = json.loads(response.data.decode("utf-8"))
    return api_client.deserialize(_JsonBody(answer), "UuidResponse").uuid


def metadata_of(blob):
    """The __metadata__ of a safetensors file (strings; Tessera's results say how they were made)."""
    (length,) = struct.unpack_from("<Q", blob, 0)
    return json.loads(blob[8:8 + length].decode("utf-8")).get("__metadata__", {})


def download_tensors(api_client, representation_uuid, timeout=None, with_metadata=False):
    """GET /representation/{uuid} with Accept: application/octet-stream -> {name: np.ndarray}
    (and the file's metadata, with_metadata=True)."""
    response = _binary_request(api_client, "GET", "/representation/%s" % representation_uuid,
                               "application/octet-stream", None, timeout)
    tensors = from_safetensors(response.data)
    return (tensors, metadata_of(response.data)) if with_metadata else tensors


class _JsonBody(object):
    """What ApiClient.deserialize reads (a response's `.data`)."""

    def __init__(self, value):
        self.data = json.dumps(value)
