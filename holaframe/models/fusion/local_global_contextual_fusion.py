"""Local-Global Contextual Fusion, LGCF (HOLA Sec. 3.2.4, Eq. 11)."""

from typing import Optional, Tuple, Union

import torch
import torch.nn as nn

from holaframe.models.layers.block import Block
from holaframe.models.layers.relative_position_bias import RelativePositionBias
from holaframe.registry import MODELS


@MODELS.register_module()
class LocalGlobalContextualFusion(nn.Module):
    """Fuses the two aligned streams with a CLS-token transformer and a global gate.

    ``F_c = Concat_seq(F_v, F_a)`` in ``R^{2L x C}``; a learnable ``[CLS]`` token is prepended
    (``R^{(2L+1) x C}``); ``N`` pre-norm transformer layers (HiCMAE ``Block``: self-attention
    + MLP) run over it; the output splits into the global feature ``F_g`` (CLS position) and
    the local features ``F_l`` (the 2L others).
    Eq. (11): ``F_f = F_l * sigmoid(W_g' Concat(F_l, F_g))`` with ``F_g`` broadcast over the 2L
    positions; ``W_g'`` is one linear layer.

    Args:
        dim (int): Token width ``C``.
        num_layers (int): Number ``N`` of transformer layers. Defaults to 2.
        num_heads (int): Attention heads. Defaults to 8.
        mlp_ratio (float): MLP hidden width / ``C``. Defaults to 4.
        dropout (float): Dropout inside the transformer layers. Defaults to 0.
        drop_path (float): Stochastic depth of the transformer layers. Defaults to 0.
        return_global (bool): Also return ``F_g``. Defaults to False.
        rel_pos_distance (int, optional): Learnable relative time-position bias of the
            self-attention logits, one table per (query, key) modality pair, offsets clipped to
            ``+-rel_pos_distance``; ``F_v[t]`` and ``F_a[t]`` share time ``t`` and the CLS token
            has none. None (default): position-blind attention, as in the paper.
    """

    def __init__(self, dim: int, num_layers: int = 2, num_heads: int = 8, mlp_ratio: float = 4.0,
                 dropout: float = 0.0, drop_path: float = 0.0,
                 return_global: bool = False, rel_pos_distance: Optional[int] = None) -> None:
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.layers = nn.ModuleList([
            Block(dim, num_heads, mlp_ratio=mlp_ratio, drop=dropout, drop_path=drop_path)
            for _ in range(num_layers)
        ])
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.gate = nn.Linear(2 * dim, dim)  # W_g' of Eq. (11)
        self.return_global = return_global
        self.rel_pos = nn.ModuleList([
            RelativePositionBias(num_heads, rel_pos_distance, num_groups=2)
            for _ in range(num_layers)]) if rel_pos_distance is not None else None

    def _position_biases(self, length: int, device: torch.device) -> list:
        """Per layer, the ``(1, H, 2L + 1, 2L + 1)`` bias of the [CLS, F_v, F_a] sequence."""
        if self.rel_pos is None:
            return [None] * len(self.layers)
        t = torch.arange(length, device=device)
        times = torch.cat([t.new_full((1,), -1), t, t])
        groups = torch.cat([t.new_zeros(1 + length), t.new_ones(length)])
        return [rel(times, times, groups, groups) for rel in self.rel_pos]

    def forward(self, f_v: torch.Tensor, f_a: torch.Tensor
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """Fuse.

        Args:
            f_v (Tensor): Video features ``(B, L, C)``.
            f_a (Tensor): Audio features ``(B, L, C)``.

        Returns:
            Tensor: ``F_f`` of shape ``(B, 2L, C)`` (video positions first), and ``F_g``
            ``(B, C)`` when ``return_global``.
        """
        f_c = torch.cat([f_v, f_a], dim=1)  # (B, 2L, C)
        cls = self.cls_token.expand(f_c.shape[0], -1, -1)
        x = torch.cat([cls, f_c], dim=1)  # (B, 2L + 1, C)
        biases = self._position_biases(f_v.shape[1], f_v.device)
        for layer, bias in zip(self.layers, biases):
            x = layer(x, attn_mask=None if bias is None else bias.to(x.dtype))
        x = self.norm(x)
        f_g, f_l = x[:, 0], x[:, 1:]
        f_g_b = f_g.unsqueeze(1).expand_as(f_l)  # broadcast F_g over the 2L positions
        f_f = f_l * torch.sigmoid(self.gate(torch.cat([f_l, f_g_b], dim=-1)))  # Eq. (11)
        if self.return_global:
            return f_f, f_g
        return f_f
