"""HiCMAE multi-head self-attention (Eq. (1)-(2) of the paper: softmax(QK^T/sqrt(d)) V)."""

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from holaframe.registry import MODELS


@MODELS.register_module()
class Attention(nn.Module):
    """Multi-head self-attention with HiCMAE's parameter layout.

    One fused projection ``qkv`` (weight ``(3 * H * d, dim)``, **no bias tensor**) plus two
    separate bias vectors ``q_bias`` and ``v_bias``; the key has no bias, so the effective bias
    is ``[q_bias, 0, v_bias]``. Output rows are ordered (q, k, v), each split as (head, head_dim).
    Attention runs through :func:`torch.nn.functional.scaled_dot_product_attention` with
    ``scale = qk_scale or head_dim ** -0.5``; then ``proj`` (with bias).

    State-dict keys: ``qkv.weight``, ``q_bias``, ``v_bias`` (only if ``qkv_bias``),
    ``proj.weight``, ``proj.bias``.

    Args:
        dim (int): Token width C.
        num_heads (int): Number of heads H. Defaults to 8.
        qkv_bias (bool): Create ``q_bias``/``v_bias``. Defaults to True.
        qk_scale (float, optional): Override of the softmax scale. Defaults to None.
        attn_drop (float): Dropout on attention probabilities (training only). Defaults to 0.
        proj_drop (float): Dropout after ``proj``. Defaults to 0.
        head_dim (int, optional): Per-head width; defaults to ``dim // num_heads``.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int = 8,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 attn_drop: float = 0.,
                 proj_drop: float = 0.,
                 head_dim: Optional[int] = None) -> None:
        super().__init__()
        if head_dim is None:
            if dim % num_heads != 0:
                raise ValueError(
                    f'holaframe/models/layers/attention.py: dim ({dim}) must be divisible by '
                    f'num_heads ({num_heads}).')
            head_dim = dim // num_heads
        self.num_heads = num_heads
        self.head_dim = head_dim
        all_head_dim = head_dim * num_heads
        self.scale = qk_scale or head_dim**-0.5
        self.qkv = nn.Linear(dim, all_head_dim * 3, bias=False)
        if qkv_bias:
            self.q_bias = nn.Parameter(torch.zeros(all_head_dim))
            self.v_bias = nn.Parameter(torch.zeros(all_head_dim))
        else:
            self.q_bias = None
            self.v_bias = None
        self.attn_drop = attn_drop
        self.proj = nn.Linear(all_head_dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor, attn_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Self-attention over the token axis.

        Args:
            x (torch.Tensor): Tokens ``(B, N, dim)``.
            attn_mask (torch.Tensor, optional): Passed to ``scaled_dot_product_attention``;
                broadcastable to ``(B, H, N, N)``; bool ``True`` = may attend, or an additive
                float mask. E.g. key padding: ``keep[:, None, None, :]``. A query row with no
                allowed key yields NaN, so keep at least one key per row.

        Returns:
            torch.Tensor: ``(B, N, dim)``.
        """
        B, N, _ = x.shape
        bias = None
        if self.q_bias is not None:
            bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias), self.v_bias))
        qkv = F.linear(x, self.qkv.weight, bias)
        # Split on the (q, k, v) axis of the (B, N, 3, H, d) view, then swap N and H: the same
        # strided views as a permute(2, 0, 3, 1, 4), but the backward stacks the (B, N, H, d)
        # gradients of SDPA along axis 2, which is already the layout of ``qkv`` (no copy).
        q, k, v = (t.transpose(1, 2) for t in
                   qkv.reshape(B, N, 3, self.num_heads, self.head_dim).unbind(2))  # (B, H, N, d)
        # Eq. (1)-(2): softmax(Q K^T / sqrt(d_k)) V per head.
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask,
            dropout_p=self.attn_drop if self.training else 0., scale=self.scale)
        out = out.transpose(1, 2).reshape(B, N, -1)
        return self.proj_drop(self.proj(out))
