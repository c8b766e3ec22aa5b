"""Pyramid-like Refiner (HOLA Sec. 3.2.5, Eq. 12-13)."""

from typing import List, Tuple

import torch
import torch.nn as nn

from holaframe.registry import MODELS


@MODELS.register_module()
class PyramidRefiner(nn.Module):
    """Multi-scale temporal refiner of the fused sequence.

    Scale ``i`` = Conv1d (stride 2, halves the length), BatchNorm1d, ReLU; it takes the
    un-pooled output sequence of scale ``i - 1`` (Eq. 13). Global average pooling of each scale
    gives ``F_si in R^C``; Eq. (12) ``F_ms = Concat(F_s1, F_s2, F_s3) in R^{3C}``; then
    linear + LayerNorm + GELU reduce it to ``F_sf in R^C``.

    Args:
        dim (int): Channel width ``C``.
        num_scales (int): Number of scales. Defaults to 3 (the paper).
        kernel_size (int): Conv1d kernel size. Defaults to 3.
    """

    def __init__(self, dim: int, num_scales: int = 3, kernel_size: int = 3) -> None:
        super().__init__()
        self.scales = nn.ModuleList([
            nn.Sequential(
                nn.Conv1d(dim, dim, kernel_size, stride=2, padding=kernel_size // 2),
                nn.BatchNorm1d(dim), nn.ReLU(inplace=True))
            for _ in range(num_scales)
        ])
        self.reduce = nn.Sequential(
            nn.Linear(num_scales * dim, dim), nn.LayerNorm(dim), nn.GELU())
        self.out_channels = dim

    def forward_scales(self, x: torch.Tensor) -> Tuple[List[torch.Tensor], torch.Tensor]:
        """Run the pyramid.

        Args:
            x (Tensor): Fused sequence ``(B, S, C)``.

        Returns:
            tuple: The per-scale sequences ``(B, C, S_i)`` and ``F_ms`` ``(B, num_scales * C)``.
        """
        if x.dim() != 3 or x.shape[2] != self.out_channels:
            raise ValueError(f'pyramid_refiner.py: expected (B, S, {self.out_channels}), '
                             f'got {tuple(x.shape)}')
        seq = x.transpose(1, 2)  # (B, C, S)
        outs, pooled = [], []
        for scale in self.scales:
            seq = scale(seq)  # Eq. (13): scale i reads the output of scale i - 1
            outs.append(seq)
            pooled.append(seq.mean(dim=-1))  # global average pooling -> F_si
        f_ms = torch.cat(pooled, dim=-1)  # Eq. (12)
        return outs, f_ms

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Args:
            x (Tensor): Fused sequence ``(B, S, C)``.

        Returns:
            Tensor: ``F_sf`` of shape ``(B, C)``.
        """
        _, f_ms = self.forward_scales(x)
        return self.reduce(f_ms)
