"""Exact fingerprints of tensors, model states and optimizer states (SHA-256 of the bytes).

Two fingerprints are equal iff every value is equal, so runs on different ranks, or a run and
its resumed continuation, are compared exactly without storing the tensors.
"""

import hashlib
from typing import Iterable, List

import torch
import torch.nn as nn


def digest(tensors: Iterable[torch.Tensor]) -> str:
    """SHA-256 of the float64 bytes of ``tensors`` (equal iff all values are equal)."""
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.detach().cpu().double().contiguous().numpy().tobytes())
    return h.hexdigest()


def unwrap(model: nn.Module) -> nn.Module:
    """The plain model inside DeepSpeed / DDP wrappers."""
    while hasattr(model, 'module'):
        model = model.module
    return model


def model_digest(model: nn.Module) -> str:
    """Fingerprint of the model's full state dict (parameters and buffers, sorted by name);
    ZeRO-3 partitioned parameters are gathered first."""
    module = unwrap(model)
    partitioned = [p for p in module.parameters() if hasattr(p, 'ds_id')]
    if partitioned:
        import deepspeed
        with deepspeed.zero.GatheredParameters(partitioned):
            state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    else:
        state = module.state_dict()
    return digest(state[k] for k in sorted(state))


def optimizer_digest(optimizer) -> str:
    """Fingerprint of this rank's optimizer state: parameters it updates, their Adam state, lr.

    For DeepSpeed's ZeRO optimizers the wrapped base optimizer holds this rank's fp32 partition.
    """
    base = getattr(optimizer, 'optimizer', optimizer)
    tensors: List[torch.Tensor] = []
    for group in base.param_groups:
        tensors.append(torch.tensor([float(group['lr'])]))
        for p in group['params']:
            tensors.append(p)
            state = base.state.get(p, {})
            for key in sorted(state):
                value = state[key]
                tensors.append(value if torch.is_tensor(value) else torch.tensor([value]))
    return digest(tensors)
