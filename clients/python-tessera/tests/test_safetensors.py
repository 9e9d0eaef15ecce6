"""The safetensors codec against the known-answer file the server's TypeScript codec is tested on."""

import os
import struct
import unittest

import numpy as np

from tessera import safetensors
from tessera.errors import TesseraInputError

VECTOR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "test", "vectors", "safetensors",
                      "known-answer.safetensors")


class KnownAnswer(unittest.TestCase):
    def setUp(self):
        with open(VECTOR, "rb") as f:
            self.blob = f.read()

    def test_decodes_every_tensor_and_the_metadata(self):
        tensors, metadata = safetensors.decode(self.blob)
        self.assertEqual(metadata, {"format": "tessera-kat", "source": "numpy"})
        self.assertEqual(sorted(tensors), ["bias", "empty", "scale", "weight"])
        np.testing.assert_array_equal(tensors["bias"], np.array([1.5, -2.0, 0.0], dtype=np.float32))
        self.assertEqual(tensors["bias"].dtype, np.float32)
        self.assertEqual(tensors["scale"].shape, ())
        self.assertEqual(float(tensors["scale"]), 3.0)
        np.testing.assert_array_equal(tensors["weight"], np.array([[0.25, -1.0], [1e-300, 65504.0]]))
        self.assertEqual(tensors["empty"].shape, (0, 4))

    def test_encodes_the_same_bytes(self):
        # The writer's layout is the reference one, so the re-encoded file is byte-identical.
        tensors, metadata = safetensors.decode(self.blob)
        self.assertEqual(safetensors.encode(tensors, metadata), self.blob)

    def test_decoded_arrays_are_writable_copies(self):
        tensors, _ = safetensors.decode(self.blob)
        tensors["bias"][0] = 7.0  # would raise on a read-only view of the file's bytes
        self.assertEqual(tensors["bias"][0], 7.0)


class Refusals(unittest.TestCase):
    def test_truncated_data_names_the_tensor(self):
        blob = safetensors.encode({"w": np.ones(4, dtype=np.float32)})
        with self.assertRaises(TesseraInputError) as caught:
            safetensors.decode(blob[:-1])
        self.assertEqual(caught.exception.where, "w")

    def test_header_length_past_the_end(self):
        with self.assertRaises(TesseraInputError) as caught:
            safetensors.decode(struct.pack("<Q", 1000) + b"{}")
        self.assertEqual(caught.exception.where, "safetensors")

    def test_unknown_dtype(self):
        text = b'{"x":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}}'
        with self.assertRaises(TesseraInputError) as caught:
            safetensors.decode(struct.pack("<Q", len(text)) + text + bytes(8))
        self.assertEqual(caught.exception.where, "x")

    def test_data_nobody_owns(self):
        blob = safetensors.encode({"w": np.ones(2)})
        with self.assertRaises(TesseraInputError):
            safetensors.decode(blob + bytes(8))

    def test_unwritable_dtype(self):
        with self.assertRaises(TesseraInputError) as caught:
            safetensors.encode({"c": np.ones(2, dtype=np.complex64)})
        self.assertEqual(caught.exception.where, "c")

    def test_round_trip_of_big_endian_input(self):
        a = np.arange(6, dtype=">f8").reshape(2, 3)
        out, _ = safetensors.decode(safetensors.encode({"a": a}))
        np.testing.assert_array_equal(out["a"], a)


if __name__ == "__main__":
    unittest.main()
