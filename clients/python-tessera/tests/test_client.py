"""The client's own logic, without a server: arguments, errors, round uuids, local refusals."""

import json
import socket
import unittest

import numpy as np

import tessera
from tessera.api import _argument
from tessera.errors import TesseraError, TesseraInputError, TesseraUnreachableError


class Arguments(unittest.TestCase):
    def test_representation_travels_as_its_uuid(self):
        api = tessera.Api("http://127.0.0.1:9")
        rep = tessera.Representation(api, "0b0c6f7e-3a51-4e43-9a59-0f7b2e7f8c11")
        self.assertEqual(_argument({"tensors": rep, "weight": 3}),
                         {"tensors": {"representation_uuid": rep.uuid}, "weight": 3})

    def test_numpy_values_become_json(self):
        value = _argument({"data": np.array([[1.5, 2.0]]), "n": np.int64(3)})
        self.assertEqual(json.dumps(value), '{"data": [[1.5, 2.0]], "n": 3}')

    def test_private_names_are_never_sent(self):
        rep = tessera.Representation(tessera.Api("http://127.0.0.1:9"), "u")
        with self.assertRaises(AttributeError):
            rep.__deepcopy__


class Problems(unittest.TestCase):
    def test_problem_document_gives_status_detail_and_where(self):
        body = json.dumps({"type": "/problems/bad-input", "title": "Bad Request", "status": 400,
                           "detail": "must be a number", "where": "kwargs.data[1]"}).encode()
        error = TesseraError.from_response("http://h:1", 400, "Bad Request", body)
        self.assertEqual((error.status, error.detail, error.where, error.type), (400, "must be a number", "kwargs.data[1]", "/problems/bad-input"))
        self.assertIn("kwargs.data[1]", str(error))
        self.assertIn("http://h:1", str(error))
        self.assertIsInstance(error, RuntimeError)  # what FSC's client raised: old handlers still catch it

    def test_non_json_body_is_the_detail(self):
        error = TesseraError.from_response("http://h:1", 502, "Bad Gateway", b"upstream down")
        self.assertEqual(error.detail, "upstream down")

    def test_unreachable_server_names_its_url(self):
        with socket.socket() as s:  # a port that was free a moment ago: nobody listens there
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        url = "http://127.0.0.1:%d" % port
        with self.assertRaises(TesseraUnreachableError) as caught:
            tessera.Api(url, timeout=5).list()
        self.assertIn(url, str(caught.exception))
        self.assertEqual(caught.exception.url, url)


class LocalRefusals(unittest.TestCase):
    network = tessera.Network(["http://127.0.0.1:9", "http://127.0.0.1:10"], "u", 0)

    def test_a_string_is_not_a_set(self):
        # FSC read "ab" as the set {"a", "b"}; refused here before anything is sent.
        with self.assertRaises(TesseraInputError) as caught:
            tessera.set_intersection("ab", self.network)
        self.assertEqual(caught.exception.where, "data[0]")

    def test_a_bool_is_not_a_number(self):
        with self.assertRaises(TesseraInputError) as caught:
            tessera.secure_sum([1.0, True], self.network)
        self.assertEqual(caught.exception.where, "data[1]")

    def test_myself_must_index_nodes(self):
        with self.assertRaises(TesseraInputError) as caught:
            tessera.secure_sum(1, tessera.Network(["http://127.0.0.1:9"], "u", 3))
        self.assertEqual(caught.exception.where, "network.myself")

    def test_weight_must_be_positive(self):
        with self.assertRaises(TesseraInputError) as caught:
            tessera.FedAvgClient(self.network, weight=0)
        self.assertEqual(caught.exception.where, "weight")

    def test_ring_bits_is_one_of_the_servers_rings(self):
        for ring_bits in (64, 48, 40, 32):
            tessera.FedAvgClient(self.network, weight=1, ring_bits=ring_bits)
        for ring_bits in (16, 56, "64"):
            with self.assertRaises(TesseraInputError) as caught:
                tessera.FedAvgClient(self.network, weight=1, ring_bits=ring_bits)
            self.assertEqual(caught.exception.where, "ring_bits")

    def test_every_simon_name_has_a_function(self):
        self.assertEqual(len(tessera.MICROPROTOCOLS), 13)
        for name, function in tessera.MICROPROTOCOLS.items():
            self.assertIs(getattr(tessera, function.__name__), function, name)


class RoundUuids(unittest.TestCase):
    def test_same_as_the_typescript_client(self):
        # Printed by clients/typescript/fedavg.ts roundUuid for the same (base, round): Python and
        # TypeScript parties of one federation must derive the same uuid for every round.
        base = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
        self.assertEqual(tessera.round_uuid(base, 0), "53712177-16c1-84f6-bc6b-10557f4257b9")
        self.assertEqual(tessera.round_uuid(base, 7), "0f3fc5ed-9674-8faa-9081-d422ef795716")
        self.assertEqual(tessera.round_uuid("hospital-study", 12), "bbad526f-941b-8975-9375-0498e10604c7")

    def test_negative_round_is_refused(self):
        with self.assertRaises(TesseraInputError):
            tessera.round_uuid("b", -1)


if __name__ == "__main__":
    unittest.main()
