"""Stochastic depth."""

import torch
from torch import nn

from holaframe.registry import MODELS


def drop_path(x: torch.Tensor, drop_prob: float = 0., training: bool = False) -> torch.Tensor:
    """Drop whole residual branches per sample (stochastic depth).

    Args:
        x (torch.Tensor): Branch output, batch first.
        drop_prob (float): Probability of dropping the branch of a sample.
        training (bool): Identity when False.

    Returns:
        torch.Tensor: ``x`` with dropped samples zeroed and kept ones scaled by 1/(1-p).
    """
    if drop_prob == 0. or not training:
        return x
    keep_prob = 1 - drop_prob
    shape = (x.shape[0], ) + (1, ) * (x.ndim - 1)
    random_tensor = x.new_empty(shape).bernoulli_(keep_prob)
    return x * random_tensor / keep_prob


@MODELS.register_module()
class DropPath(nn.Module):
    """Module form of :func:`drop_path`.

    Args:
        drop_prob (float): Probability of dropping the branch of a sample. Defaults to 0.
    """

    def __init__(self, drop_prob: float = 0.) -> None:
        super().__init__()
        self.drop_prob = float(drop_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply stochastic depth (identity in eval mode)."""
        return drop_path(x, self.drop_prob, self.training)

    def extra_repr(self) -> str:
        return f'p={self.drop_prob}'
