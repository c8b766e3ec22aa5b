"""Learnable relative time-position bias for attention logits."""

from typing import Optional

import torch
import torch.nn as nn


class RelativePositionBias(nn.Module):
    """Per-head bias ``b[h, g_q, g_k, clip(t_k - t_q, -R, R)]`` added to attention logits.

    Attention over token sequences is blind to position; a bias that depends only on the time
    offset between a query and a key lets a head attend to "the other modality at the same time
    step" (or at a fixed lag) for sequences of any length, without adding anything to the
    token values. Offsets beyond ``R = max_distance`` share the edge entry. ``num_groups > 1``
    gives each (query group, key group) pair, e.g. (video, audio), its own table. Tokens with
    time ``-1`` (e.g. a ``[CLS]`` token) get a zero bias to and from every token.

    Initialisation ``b[h, ..., d] = -init_slope * 2^-h * |d|`` (the distance penalty of ALiBi,
    halved from head to head): head 0 starts most local, the last heads nearly global.
    ``init_slope = 0`` starts from the unbiased attention.

    Args:
        num_heads (int): Attention heads ``H``.
        max_distance (int): Largest distinguished offset ``R``. Defaults to 16.
        num_groups (int): Token groups with separate tables. Defaults to 1.
        init_slope (float): Distance penalty of head 0 at initialisation. Defaults to 4.
    """

    def __init__(self, num_heads: int, max_distance: int = 16, num_groups: int = 1,
                 init_slope: float = 4.0) -> None:
        super().__init__()
        if max_distance < 0 or num_groups < 1:
            raise ValueError(f'relative_position_bias.py: need max_distance >= 0 and '
                             f'num_groups >= 1, got {max_distance}, {num_groups}')
        self.num_heads = num_heads
        self.max_distance = max_distance
        self.num_groups = num_groups
        dist = torch.arange(-max_distance, max_distance + 1).abs().float()
        slopes = init_slope * 0.5 ** torch.arange(num_heads).float()
        table = -slopes[:, None] * dist[None, :]  # (H, 2R + 1)
        self.table = nn.Parameter(
            table[:, None, None, :].repeat(1, num_groups, num_groups, 1).contiguous())

    def forward(self, q_times: torch.Tensor, k_times: torch.Tensor,
                q_groups: Optional[torch.Tensor] = None,
                k_groups: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Bias for one query and one key sequence.

        Args:
            q_times (Tensor): Time index of each query ``(N,)`` (long; -1 = no time).
            k_times (Tensor): Time index of each key ``(M,)``.
            q_groups (Tensor, optional): Group of each query ``(N,)``; defaults to 0.
            k_groups (Tensor, optional): Group of each key ``(M,)``; defaults to 0.

        Returns:
            Tensor: ``(1, H, N, M)``, an additive float mask for
            ``scaled_dot_product_attention``.
        """
        r = self.max_distance
        offset = (k_times[None, :] - q_times[:, None]).clamp(-r, r) + r  # (N, M)
        qg = q_groups if q_groups is not None else torch.zeros_like(q_times)
        kg = k_groups if k_groups is not None else torch.zeros_like(k_times)
        bias = self.table[:, qg[:, None], kg[None, :], offset]  # (H, N, M)
        timed = (q_times[:, None] >= 0) & (k_times[None, :] >= 0)
        return (bias * timed.to(bias.dtype)).unsqueeze(0)
