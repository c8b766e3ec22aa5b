"""Training state kept in checkpoints as plain data: random-number generators, the position in
the epoch, and MMEngine's message hub.

Everything here is made of tensors, numbers, strings and plain containers, so a checkpoint that
holds it loads with ``torch.load(weights_only=True)`` and no allow-listed class.
"""

import contextlib
import random
from typing import Any, Callable, Dict, Iterator, Optional

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

from holaframe.utils.checkpoint import to_plain

#: Marks a message hub converted by :func:`message_hub_to_plain`.
PLAIN_HUB_FORMAT = 'holaframe-plain-1'


# --------------------------------------------------------------------------- random state
def capture_rng_state() -> Dict[str, Any]:
    """The state of Python's, NumPy's and torch's (CPU and CUDA) global generators."""
    py_version, py_keys, py_gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = dict(
        python=dict(version=int(py_version), keys=torch.tensor(py_keys, dtype=torch.int64),
                    gauss=py_gauss),
        numpy=dict(name=str(name), keys=torch.from_numpy(keys.astype(np.int64)), pos=int(pos),
                   has_gauss=int(has_gauss), cached_gaussian=float(cached)),
        torch=torch.get_rng_state(),
        cuda=[s.cpu() for s in torch.cuda.get_rng_state_all()]
        if torch.cuda.is_available() else [])
    return state


def restore_rng_state(state: Dict[str, Any]) -> None:
    """Set the global generators to a state returned by :func:`capture_rng_state`.

    Args:
        state (dict): A captured state.
    """
    py = state['python']
    random.setstate((py['version'], tuple(int(k) for k in py['keys'].tolist()), py['gauss']))
    nps = state['numpy']
    np.random.set_state((nps['name'], nps['keys'].numpy().astype(np.uint32), nps['pos'],
                         nps['has_gauss'], nps['cached_gaussian']))
    torch.set_rng_state(state['torch'])
    cuda = state.get('cuda') or []
    if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(cuda)


@contextlib.contextmanager
def rng_preserved() -> Iterator[None]:
    """Run a block without changing the global random state seen after it (validation and
    pseudo-label prediction in the middle of training)."""
    state = capture_rng_state()
    try:
        yield
    finally:
        restore_rng_state(state)


# --------------------------------------------------------------------------- message hub
def message_hub_to_plain(state: Dict[str, Any]) -> Dict[str, Any]:
    """Plain-data copy of ``MessageHub.state_dict()``: each ``HistoryBuffer`` becomes its
    numbers (``log_history``, ``count_history``, ``max_length``).

    Args:
        state (dict): ``log_scalars``, ``runtime_info``, ``resumed_keys``.
    """
    if state.get('format') == PLAIN_HUB_FORMAT:
        return state
    scalars = {}
    for key, buf in state.get('log_scalars', {}).items():
        if isinstance(buf, HistoryBuffer):
            log, count = buf.data
            scalars[str(key)] = dict(log_history=np.asarray(log, dtype=np.float64).tolist(),
                                     count_history=np.asarray(count, dtype=np.float64).tolist(),
                                     max_length=int(buf.max_length))
    return dict(format=PLAIN_HUB_FORMAT, log_scalars=scalars,
                runtime_info=to_plain(dict(state.get('runtime_info', {}))),
                resumed_keys={str(k): bool(v) for k, v in state.get('resumed_keys', {}).items()})


def message_hub_from_plain(state: Dict[str, Any]) -> Dict[str, Any]:
    """The ``MessageHub.load_state_dict`` input for a state made by
    :func:`message_hub_to_plain` (other states are returned unchanged)."""
    if not isinstance(state, dict) or state.get('format') != PLAIN_HUB_FORMAT:
        return state
    scalars = {
        key: HistoryBuffer(value['log_history'], value['count_history'], value['max_length'])
        for key, value in state['log_scalars'].items()
    }
    return dict(log_scalars=scalars, runtime_info=dict(state['runtime_info']),
                resumed_keys=dict(state['resumed_keys']))


# --------------------------------------------------------------------------- sampler position
class SamplerCursor:
    """Wraps a train dataloader's sampler (under its batch sampler) for exact resumption.

    ``skip`` indices of the next pass are dropped without loading their samples (the part of an
    epoch a resumed run already trained on); ``on_first_draw`` runs once, right before the
    index number ``draw_at`` (counted from now) is handed out, i.e. after the dataloader
    iterator exists and before the first sample of the resumed stream is loaded. Everything
    else (``set_epoch``, ``seed``, ``shuffle``, ...) is the wrapped sampler's.

    Args:
        sampler: The wrapped sampler.
    """

    def __init__(self, sampler) -> None:
        self.sampler = sampler
        self.skip = 0
        self.draw_at = 0
        self.on_first_draw: Optional[Callable[[], None]] = None
        self._drawn = 0
        self._skipping = 0

    def __getattr__(self, name: str) -> Any:
        if name == 'sampler':
            raise AttributeError(name)
        return getattr(self.sampler, name)

    def _maybe_fire(self) -> None:
        if self.on_first_draw is not None and self._drawn >= self.draw_at:
            callback, self.on_first_draw = self.on_first_draw, None
            callback()

    def __iter__(self):
        skip, self.skip = self.skip, 0
        self._skipping = skip
        try:
            indices = iter(self.sampler)
            for _ in range(skip):
                if next(indices, None) is None:
                    break
            self._maybe_fire()
            for index in indices:
                self._maybe_fire()
                self._drawn += 1
                yield index
            self._maybe_fire()
        finally:
            self._skipping = 0

    def __len__(self) -> int:
        return max(len(self.sampler) - max(self.skip, self._skipping), 0)
