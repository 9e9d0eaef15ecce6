#!/usr/bin/env python3
"""Writes known-answer.safetensors with NumPy and the standard library only.

Provenance: an implementation independent of services/common/tensors.ts, written from the format
description in the safetensors README (https://github.com/huggingface/safetensors#format):
8-byte little-endian u64 header size N, N bytes of JSON header padded with spaces, then the raw
little-endian tensor bytes. The layout follows the reference writer (safetensors tensor.rs
`prepare`): data sorted by dtype alignment (largest first) then by name, "__metadata__" first in
the header, the header padded to a multiple of 8 bytes, compact JSON.

Run: python3 test/vectors/safetensors/make_vectors.py  (NumPy 2.x was used: 2.4.6)
"""
import json
import os
import struct

import numpy as np

tensors = {
    # name: array (dtype, shape and values chosen so every float has an exact, well-known bit pattern)
    "bias": np.array([1.5, -2.0, 0.0], dtype="<f4"),
    "scale": np.array(3.0, dtype="<f8"),  # scalar, shape []
    "weight": np.array([[0.25, -1.0], [1e-300, 65504.0]], dtype="<f8"),
    "empty": np.zeros((0, 4), dtype="<f4"),
}
metadata = {"format": "tessera-kat", "source": "numpy"}

order = sorted(tensors, key=lambda n: (-tensors[n].dtype.itemsize, n.encode("utf-8")))
header = {"__metadata__": metadata}
data = b""
for name in order:
    a = tensors[name]
    raw = a.tobytes(order="C")
    header[name] = {
        "dtype": {4: "F32", 8: "F64"}[a.dtype.itemsize],
        "shape": list(a.shape),
        "data_offsets": [len(data), len(data) + len(raw)],
    }
    data += raw
text = json.dumps(header, separators=(",", ":")).encode("utf-8")
text += b" " * ((8 - len(text) % 8) % 8)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "known-answer.safetensors")
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(text)) + text + data)
print(out, 8 + len(text) + len(data), "bytes")
