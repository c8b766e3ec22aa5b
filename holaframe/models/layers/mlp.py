"""Transformer feed-forward network."""

import torch
from torch import nn

from holaframe.registry import MODELS


@MODELS.register_module()
class Mlp(nn.Module):
    """HiCMAE MLP: ``fc1 -> GELU (exact erf form) -> fc2 -> dropout`` (no dropout between).

    Args:
        in_features (int): Input width.
        hidden_features (int, optional): Hidden width. Defaults to ``in_features``.
        out_features (int, optional): Output width. Defaults to ``in_features``.
        drop (float): Dropout after ``fc2``. Defaults to 0.
    """

    def __init__(self,
                 in_features: int,
                 hidden_features: int = None,
                 out_features: int = None,
                 drop: float = 0.) -> None:
        super().__init__()
        out_features = out_features or in_features
        hidden_features = hidden_features or in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, out_features)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(..., in_features)`` to ``(..., out_features)``."""
        return self.drop(self.fc2(self.act(self.fc1(x))))
