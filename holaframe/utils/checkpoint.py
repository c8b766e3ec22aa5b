"""Safe checkpoint loading: the one place where holaframe reads checkpoint files.

Checkpoints are always read with ``torch.load(..., weights_only=True)``. Two kinds of files need
more than tensors and containers, and exactly those classes are allow-listed:

* HiCMAE-style training checkpoints pickle the ``argparse.Namespace`` of the training script
  under ``'args'``;
* MMEngine training checkpoints pickle the message hub: ``HistoryBuffer`` objects holding numpy
  arrays, whose statistics methods are pickled as ``getattr(HistoryBuffer, 'mean')``. Allowing
  ``builtins.getattr`` as such would allow ``getattr(os, 'system')``, so it is mapped to a
  function that only returns public attributes of ``HistoryBuffer``.

Nothing else is accepted, so no arbitrary code can run while loading an untrusted file.
"""

import argparse
import contextlib
import os
import pickle
from collections import OrderedDict
from typing import Any, Dict, Iterator, List, Mapping, Sequence, Union

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

#: Keys under which training scripts store the weights, tried in this order (HiCMAE's
#: fine-tuning script tries 'model', then 'module', then the file's top level).
STATE_DICT_KEYS = ('model', 'module', 'state_dict')


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to the public attributes of ``HistoryBuffer``."""
    if obj is HistoryBuffer and not name.startswith('_'):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'Refusing getattr({obj!r}, {name!r}) while loading a checkpoint: only public '
        'attributes of mmengine HistoryBuffer are allowed.')


def safe_globals() -> List[Any]:
    """Every global a holaframe, MMEngine or HiCMAE checkpoint may need (see module doc)."""
    dtype_classes = [getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith('DType')]
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    return [
        argparse.Namespace,
        HistoryBuffer,
        multiarray._reconstruct,
        multiarray.scalar,
        np.ndarray,
        np.dtype,
        (_history_buffer_getattr, 'builtins.getattr'),
    ] + dtype_classes


@contextlib.contextmanager
def allow_mmengine_checkpoints() -> Iterator[None]:
    """Context in which ``torch.load(weights_only=True)`` (torch's default) reads MMEngine
    checkpoints, e.g. around ``runner.train()`` (resume, ``init_cfg`` Pretrained) or
    ``runner.test()``."""
    with torch.serialization.safe_globals(safe_globals()):
        yield


def load_checkpoint_safely(path: Union[str, os.PathLike],
                           map_location: Union[str, torch.device] = 'cpu') -> Any:
    """``torch.load`` with ``weights_only=True`` and only :func:`safe_globals` allow-listed.

    Args:
        path (str | PathLike): Checkpoint file.
        map_location (str | torch.device): Where to put the tensors. Defaults to ``'cpu'``.

    Returns:
        Any: The loaded object (usually a dict).
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'holaframe/utils/checkpoint.py: no checkpoint file at {path!r}.')
    with torch.serialization.safe_globals(safe_globals()):
        try:
            return torch.load(path, map_location=map_location, weights_only=True)
        except Exception as exc:  # noqa: BLE001 - re-raised with context
            raise RuntimeError(
                f'holaframe/utils/checkpoint.py: could not load {path!r} with '
                'weights_only=True (only tensors, containers, numbers, strings, '
                f'argparse.Namespace and MMEngine log buffers are accepted): {exc}') from exc


def unwrap_state_dict(checkpoint: Any,
                      keys: Sequence[str] = STATE_DICT_KEYS) -> 'OrderedDict[str, torch.Tensor]':
    """Return the weights of a checkpoint: the first of ``keys`` present, else the top level.

    A leading ``'module.'`` (DistributedDataParallel) on every key is removed.

    Args:
        checkpoint (Any): A loaded checkpoint.
        keys (Sequence[str]): Wrapper keys to try, in order.

    Returns:
        OrderedDict[str, Tensor]: Name -> tensor.
    """
    if not isinstance(checkpoint, Mapping):
        raise TypeError('holaframe/utils/checkpoint.py: a checkpoint must be a dict, got '
                        f'{type(checkpoint).__name__}.')
    state = checkpoint
    for key in keys:
        if key in checkpoint and isinstance(checkpoint[key], Mapping):
            state = checkpoint[key]
            break
    non_tensor = [k for k, v in state.items() if not torch.is_tensor(v)]
    if non_tensor:
        raise ValueError(
            'holaframe/utils/checkpoint.py: the weights (looked up under '
            f'{list(keys)} or the top level) contain non-tensor entries {non_tensor[:5]}; '
            'is this a training checkpoint with an unknown layout?')
    state = OrderedDict(state)
    if state and all(k.startswith('module.') for k in state):
        state = OrderedDict((k[len('module.'):], v) for k, v in state.items())
    return state


def namespace_to_dict(args: Any) -> Dict[str, Any]:
    """Plain-typed copy of a pickled ``argparse.Namespace`` (or dict) for checkpoint metadata.

    Values that are not None/bool/int/float/str (or lists/tuples of them) become their
    ``repr`` so that the result loads with ``weights_only=True``.

    Args:
        args (Any): ``argparse.Namespace``, a dict, or None.

    Returns:
        dict: str -> plain value.
    """
    if args is None:
        return {}
    items = vars(args) if isinstance(args, argparse.Namespace) else dict(args)
    plain = (type(None), bool, int, float, str)

    def _convert(value):
        if isinstance(value, plain):
            return value
        if isinstance(value, (list, tuple)) and all(isinstance(v, plain) for v in value):
            return list(value)
        return repr(value)

    return {str(k): _convert(v) for k, v in items.items()}


def load_weights(path: Union[str, os.PathLike]) -> 'OrderedDict[str, torch.Tensor]':
    """The model weights of a holaframe / MMEngine checkpoint, read with ``weights_only=True``.

    Looks under ``state_dict`` (MMEngine), then ``model`` and ``module``, else the top level; a
    leading ``module.`` on every key is removed.

    Args:
        path (str | PathLike): Checkpoint file.

    Returns:
        OrderedDict[str, Tensor]: Name -> tensor.
    """
    return unwrap_state_dict(load_checkpoint_safely(path), keys=('state_dict', 'model', 'module'))
