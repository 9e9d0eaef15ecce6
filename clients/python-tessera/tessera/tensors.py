"""Models in the forms Python users hold them: NumPy arrays, PyTorch tensors, state_dicts, modules.

PyTorch is never imported here: a tensor is recognised by its `detach`/`cpu`/`numpy` methods and a
module by `state_dict`/`load_state_dict`, so the package works (and its NumPy paths are tested)
without torch installed.
"""

import numpy as np

from .errors import TesseraInputError

__all__ = ["is_torch_tensor", "is_module", "to_numpy", "named_arrays", "averageable", "write_back"]

# What SecureFedAvg averages (openapi.yaml TensorSpec): float32 and float64.
_AVERAGEABLE = (np.dtype("float32"), np.dtype("float64"))


def is_torch_tensor(value):
    return all(hasattr(value, member) for member in ("detach", "cpu", "numpy", "copy_"))


def is_module(value):
    return hasattr(value, "state_dict") and hasattr(value, "load_state_dict") and callable(value.state_dict)


def to_numpy(name, value):
    """One tensor as a NumPy array (a copy for torch tensors, which may live on a GPU)."""
    if is_torch_tensor(value):
        return value.detach().cpu().numpy().copy()
    try:
        array = np.asarray(value)
    except (TypeError, ValueError) as error:
        raise TesseraInputError("not an array: %s" % error, where=name) from None
    if array.dtype == object:
        raise TesseraInputError("not a numeric array (ragged or mixed values)", where=name)
    return array


def _mapping(model):
    """The model's named tensors, as the model holds them (module -> its state_dict)."""
    if is_module(model):
        return model.state_dict()
    if hasattr(model, "items"):
        return model
    raise TesseraInputError("a model is a torch.nn.Module, a state_dict or a dict of arrays, not %s"
                            % type(model).__name__, where="model")


def named_arrays(model):
    """{name: NumPy array} of every tensor of a module, state_dict or dict of arrays."""
    tensors = _mapping(model)
    out = {}
    for name, value in tensors.items():
        if not isinstance(name, str):
            raise TesseraInputError("tensor names must be strings", where=repr(name))
        out[name] = to_numpy(name, value)
    if not out:
        raise TesseraInputError("a model needs at least one tensor", where="model")
    return out


def averageable(arrays):
    """The float32/float64 arrays (weights, biases, running means): what FedAvg averages.

    Other dtypes are buffers that count things (BatchNorm's num_batches_tracked) or hold
    indices; averaging them means nothing, so they stay local. float16/bfloat16 weights are
    refused rather than silently left out."""
    out = {}
    for name, array in arrays.items():
        if array.dtype in _AVERAGEABLE:
            out[name] = array
        elif array.dtype.kind == "f" or str(array.dtype) == "bfloat16":
            raise TesseraInputError("only float32 and float64 tensors can be averaged, this one is %s" % array.dtype,
                                    where=name)
    if not out:
        raise TesseraInputError("the model has no float32 or float64 tensor to average", where="model")
    return out


def write_back(model, averaged):
    """Writes `averaged` {name: NumPy array} into the model's own tensors, in place."""
    tensors = _mapping(model)
    for name, array in averaged.items():
        target = tensors.get(name)
        if target is None:
            raise TesseraInputError("the averaged model has a tensor the model lacks", where=name)
        if is_torch_tensor(target):
            import torch  # only reached with torch tensors, so torch is there

            with torch.no_grad():
                # A module's state_dict holds its parameters' own storage: copy_ writes the model.
                target.copy_(torch.from_numpy(np.ascontiguousarray(array)).to(dtype=target.dtype))
        elif isinstance(target, np.ndarray):
            if target.shape != array.shape:
                raise TesseraInputError("shape %s, the average has %s" % (target.shape, array.shape), where=name)
            target[...] = array
        else:
            raise TesseraInputError("cannot write into a %s in place; use NumPy arrays or torch tensors"
                                    % type(target).__name__, where=name)
    return model
