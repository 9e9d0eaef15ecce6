"""Models in and out: NumPy dicts, torch state_dicts and modules, written back in place."""

import unittest

import numpy as np

from tessera import safetensors
from tessera.errors import TesseraInputError
from tessera.tensors import averageable, named_arrays, write_back

import torch


class NumPyModels(unittest.TestCase):
    def test_write_back_is_in_place(self):
        model = {"w": np.zeros((2, 2), dtype=np.float32), "b": np.zeros(2)}
        alias = model["w"]
        write_back(model, {"w": np.full((2, 2), 0.5, dtype=np.float32), "b": np.array([1.0, -1.0])})
        np.testing.assert_array_equal(alias, np.full((2, 2), 0.5))  # the caller's own array changed
        np.testing.assert_array_equal(model["b"], [1.0, -1.0])

    def test_shape_change_is_refused_naming_the_tensor(self):
        with self.assertRaises(TesseraInputError) as caught:
            write_back({"w": np.zeros(3)}, {"w": np.zeros(4)})
        self.assertEqual(caught.exception.where, "w")

    def test_only_float32_and_float64_are_averaged(self):
        arrays = named_arrays({"w": np.ones(2, dtype=np.float32), "count": np.array(3, dtype=np.int64)})
        self.assertEqual(sorted(averageable(arrays)), ["w"])

    def test_half_precision_is_refused_not_dropped(self):
        with self.assertRaises(TesseraInputError) as caught:
            averageable({"w": np.ones(2, dtype=np.float16)})
        self.assertEqual(caught.exception.where, "w")

    def test_ragged_values_name_the_tensor(self):
        with self.assertRaises(TesseraInputError) as caught:
            named_arrays({"bad": [[1.0], [1.0, 2.0]]})
        self.assertEqual(caught.exception.where, "bad")

    def test_not_a_model(self):
        with self.assertRaises(TesseraInputError) as caught:
            named_arrays(42)
        self.assertEqual(caught.exception.where, "model")


class TorchModels(unittest.TestCase):
    def test_module_state_dict_round_trips_through_safetensors(self):
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 1))
        arrays = named_arrays(model)
        self.assertEqual(arrays["1.num_batches_tracked"].dtype, np.int64)
        decoded, _ = safetensors.decode(safetensors.encode(arrays))
        for name, tensor in model.state_dict().items():
            np.testing.assert_array_equal(decoded[name], tensor.numpy(), err_msg=name)

    def test_write_back_changes_the_module_parameters(self):
        model = torch.nn.Linear(2, 1)
        weight = model.weight  # the Parameter object the optimizer holds
        write_back(model, {"weight": np.array([[0.25, -0.5]], dtype=np.float32), "bias": np.array([2.0], dtype=np.float32)})
        self.assertIs(model.weight, weight)
        self.assertEqual(model.weight.detach().tolist(), [[0.25, -0.5]])
        self.assertEqual(model.bias.item(), 2.0)
        self.assertTrue(model.weight.requires_grad)

    def test_float64_parameters_keep_their_dtype(self):
        model = torch.nn.Linear(2, 1).double()
        arrays = averageable(named_arrays(model))
        self.assertEqual(arrays["weight"].dtype, np.float64)
        write_back(model, {"weight": np.ones((1, 2)), "bias": np.zeros(1)})
        self.assertEqual(model.weight.dtype, torch.float64)


if __name__ == "__main__":
    unittest.main()
