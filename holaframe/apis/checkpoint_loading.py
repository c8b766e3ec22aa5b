"""Loading MMEngine training checkpoints with ``torch.load(weights_only=True)``.

An MMEngine checkpoint also pickles the message hub: ``HistoryBuffer`` objects holding numpy
arrays, whose statistics methods are pickled as ``getattr(HistoryBuffer, 'mean')``. torch's
weights-only unpickler rejects these, and allowing ``builtins.getattr`` as such would allow
``getattr(os, 'system')``. :func:`mmengine_safe_globals` allow-lists exactly the data classes
involved and maps ``builtins.getattr`` to a function that only returns public attributes of
``HistoryBuffer``, so no arbitrary code can run while loading an untrusted file.
"""

import contextlib
import os
import pickle
from collections import OrderedDict
from typing import Any, Iterator, List

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer


def _history_buffer_getattr(obj: Any, name: str) -> Any:
    """``getattr`` restricted to the public attributes of ``HistoryBuffer``."""
    if obj is HistoryBuffer and not name.startswith('_'):
        return getattr(obj, name)
    raise pickle.UnpicklingError(
        f'Refusing getattr({obj!r}, {name!r}) while loading a checkpoint: only public '
        'attributes of mmengine HistoryBuffer are allowed.')


def mmengine_safe_globals() -> List[Any]:
    """The globals needed by MMEngine training checkpoints (for ``torch.serialization``)."""
    dtype_classes = [getattr(np.dtypes, n) for n in dir(np.dtypes) if n.endswith('DType')]
    multiarray = np._core.multiarray if hasattr(np, '_core') else np.core.multiarray
    return [
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
    checkpoints, e.g. around ``runner.test()`` or ``runner.train()`` with ``resume``."""
    with torch.serialization.safe_globals(mmengine_safe_globals()):
        yield


def load_weights(path: str) -> 'OrderedDict[str, torch.Tensor]':
    """Read the model weights of a holaframe/MMEngine checkpoint with ``weights_only=True``.

    Accepts a training checkpoint (``state_dict`` inside) or a bare state dict; a leading
    ``module.`` on every key is removed; EMA copies (``ema_`` keys of MMEngine's EMA hook) are
    not used.

    Args:
        path (str): Checkpoint file.

    Returns:
        OrderedDict: Parameter name -> tensor.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f'Checkpoint not found: {path}')
    try:
        with allow_mmengine_checkpoints():
            checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as exc:  # noqa: BLE001 - re-raised with the file name
        raise RuntimeError(f'Cannot load checkpoint {path} with weights_only=True: {exc}') from exc
    state = checkpoint
    if isinstance(checkpoint, dict):
        for key in ('state_dict', 'model', 'module'):
            if isinstance(checkpoint.get(key), dict):
                state = checkpoint[key]
                break
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise ValueError(f'{path}: no state dict of tensors found (looked under state_dict, '
                         'model, module and the top level).')
    state = OrderedDict(state)
    if state and all(k.startswith('module.') for k in state):
        state = OrderedDict((k[len('module.'):], v) for k, v in state.items())
    return state
