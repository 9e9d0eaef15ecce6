"""The safetensors file format, written against NumPy alone.

A file is an 8-byte little-endian unsigned header length N, N bytes of JSON header
`{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}` (offsets
count from the first byte after the header; tensors are packed without gaps), then the tensors'
raw little-endian, row-major bytes (https://github.com/huggingface/safetensors, "Format").

Debian packages no safetensors library, and the format is small, so it is written here. The
writer lays a file out as the reference implementation does (its `prepare` in tensor.rs):
`__metadata__` first, tensors ordered by dtype alignment (largest first) then by name, compact
JSON, the header padded with spaces to a multiple of 8 bytes so the data stays aligned. That
makes the bytes reproducible: tests/test_safetensors.py checks them against the same known-answer
file as the server's TypeScript codec (test/vectors/safetensors/known-answer.safetensors).
"""

import json
import struct

import numpy as np

from .errors import TesseraInputError

__all__ = ["encode", "decode", "DTYPES"]

# safetensors dtype name -> NumPy dtype (little-endian). Tessera averages F32 and F64; the other
# numeric types are read and written so that whole state_dicts (integer buffers too) round-trip.
DTYPES = {
    "F64": np.dtype("<f8"), "F32": np.dtype("<f4"), "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"), "I32": np.dtype("<i4"), "I16": np.dtype("<i2"), "I8": np.dtype("i1"),
    "U64": np.dtype("<u8"), "U32": np.dtype("<u4"), "U16": np.dtype("<u2"), "U8": np.dtype("u1"),
    "BOOL": np.dtype("?"),
}
_NAMES = {dtype.newbyteorder("="): name for name, dtype in DTYPES.items()}

# The reference reader refuses headers beyond 100 MB; so does this one, before parsing.
MAX_HEADER_BYTES = 100_000_000


def _dtype_name(name, array):
    key = array.dtype.newbyteorder("=")
    if key not in _NAMES:
        raise TesseraInputError("dtype %s cannot be written as safetensors" % array.dtype, where=name)
    return _NAMES[key]


def encode(tensors, metadata=None):
    """{name: NumPy array} (and optional {str: str} metadata) -> the bytes of a safetensors file."""
    arrays = {}
    for name, value in tensors.items():
        if not isinstance(name, str) or name == "" or name == "__metadata__":
            raise TesseraInputError("a tensor name must be a non-empty string other than __metadata__", where=repr(name))
        arrays[name] = np.asarray(value)
    order = sorted(arrays, key=lambda n: (-arrays[n].dtype.itemsize, n.encode("utf-8")))
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks = []
    offset = 0
    for name in order:
        array = arrays[name]
        dtype = _dtype_name(name, array)
        raw = np.ascontiguousarray(array, dtype=DTYPES[dtype]).tobytes(order="C")
        header[name] = {"dtype": dtype, "shape": list(array.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def decode(blob):
    """The bytes of a safetensors file -> ({name: NumPy array}, {str: str} metadata).

    Arrays are copies in native byte order, so they are writable and outlive `blob`. Every offset
    is checked against the data actually present, and tensors must cover the data exactly.
    """
    blob = bytes(blob)
    if len(blob) < 8:
        raise TesseraInputError("shorter than the 8-byte header length", where="safetensors")
    (length,) = struct.unpack_from("<Q", blob, 0)
    if length > MAX_HEADER_BYTES or 8 + length > len(blob):
        raise TesseraInputError("header length %d runs past the end of the file" % length, where="safetensors")
    try:
        header = json.loads(blob[8:8 + length].decode("utf-8"))
    except ValueError as error:
        raise TesseraInputError("the header is not JSON: %s" % error, where="safetensors") from None
    if not isinstance(header, dict):
        raise TesseraInputError("the header is not a JSON object", where="safetensors")
    data = memoryview(blob)[8 + length:]
    metadata = header.pop("__metadata__", None) or {}
    tensors = {}
    covered = 0
    for name, entry in header.items():
        dtype = DTYPES.get(entry.get("dtype")) if isinstance(entry, dict) else None
        if dtype is None:
            raise TesseraInputError("unknown dtype %r" % (entry.get("dtype") if isinstance(entry, dict) else entry), where=name)
        shape = entry.get("shape")
        begin, end = entry.get("data_offsets", [None, None])
        if (not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape)
                or not isinstance(begin, int) or not isinstance(end, int) or not 0 <= begin <= end <= len(data)
                or end - begin != int(np.prod(shape, dtype=np.int64)) * dtype.itemsize):
            raise TesseraInputError("shape or data_offsets do not fit the data", where=name)
        array = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape)
        tensors[name] = array.astype(dtype.newbyteorder("="), copy=True)
        covered += end - begin
    if covered != len(data):
        raise TesseraInputError("%d bytes of data belong to no tensor" % (len(data) - covered), where="safetensors")
    return tensors, dict(metadata)
