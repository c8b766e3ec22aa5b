"""HiCMAE multi-head cross-attention (Eq. (3)-(4) of the paper)."""

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from holaframe.registry import MODELS


@MODELS.register_module()
class CrossAttention(nn.Module):
    """Multi-head cross-attention with HiCMAE's ``GeneralAttention`` parameter layout.

    Queries come from ``x`` through ``q`` (weight ``(H * d, dim)``, bias ``q_bias``); keys and
    values come from ``context`` through ``kv`` (weight ``(2 * H * d, context_dim)``, rows ordered
    (k, v), effective bias ``[0, v_bias]``). Softmax scale ``qk_scale or head_dim ** -0.5``;
    attention through ``scaled_dot_product_attention``; then ``proj`` (with bias).

    State-dict keys: ``q.weight``, ``kv.weight``, ``q_bias``, ``v_bias`` (only if ``qkv_bias``),
    ``proj.weight``, ``proj.bias``.

    Args:
        dim (int): Query token width C.
        context_dim (int, optional): Context token width; defaults to ``dim``.
        num_heads (int): Number of heads. Defaults to 8.
        qkv_bias (bool): Create ``q_bias``/``v_bias``. Defaults to True.
        qk_scale (float, optional): Override of the softmax scale. Defaults to None.
        attn_drop (float): Dropout on attention probabilities (training only). Defaults to 0.
        proj_drop (float): Dropout after ``proj``. Defaults to 0.
        head_dim (int, optional): Per-head width; defaults to ``dim // num_heads``.
    """

    def __init__(self,
                 dim: int,
                 context_dim: Optional[int] = None,
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
                    f'holaframe/models/layers/cross_attention.py: dim ({dim}) must be divisible '
                    f'by num_heads ({num_heads}).')
            head_dim = dim // num_heads
        context_dim = dim if context_dim is None else context_dim
        self.num_heads = num_heads
        self.head_dim = head_dim
        all_head_dim = head_dim * num_heads
        self.scale = qk_scale or head_dim**-0.5
        self.q = nn.Linear(dim, all_head_dim, bias=False)
        self.kv = nn.Linear(context_dim, all_head_dim * 2, bias=False)
        if qkv_bias:
            self.q_bias = nn.Parameter(torch.zeros(all_head_dim))
            self.v_bias = nn.Parameter(torch.zeros(all_head_dim))
        else:
            self.q_bias = None
            self.v_bias = None
        self.attn_drop = attn_drop
        self.proj = nn.Linear(all_head_dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self,
                x: torch.Tensor,
                context: torch.Tensor,
                attn_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Queries from ``x`` attend to ``context``.

        Args:
            x (torch.Tensor): Query tokens ``(B, N, dim)``.
            context (torch.Tensor): Key/value tokens ``(B, M, context_dim)``.
            attn_mask (torch.Tensor, optional): Broadcastable to ``(B, H, N, M)``; bool ``True``
                = may attend, or an additive float mask (see :class:`Attention`).

        Returns:
            torch.Tensor: ``(B, N, dim)``.
        """
        B, N, _ = x.shape
        M = context.shape[1]
        kv_bias = None
        if self.q_bias is not None:
            kv_bias = torch.cat((torch.zeros_like(self.v_bias), self.v_bias))
        q = F.linear(x, self.q.weight, self.q_bias)
        q = q.reshape(B, N, self.num_heads, self.head_dim).transpose(1, 2)
        kv = F.linear(context, self.kv.weight, kv_bias)
        # (B, M, 2, H, d) -> k, v (B, H, M, d) views; see Attention.forward for the layout.
        k, v = (t.transpose(1, 2) for t in
                kv.reshape(B, M, 2, self.num_heads, self.head_dim).unbind(2))
        # Eq. (3)-(4): MHCA(F_c, F_o) = softmax(Q_c K_o^T / sqrt(d_k)) V_o per head.
        out = F.scaled_dot_product_attention(
            q, k, v, attn_mask=attn_mask,
            dropout_p=self.attn_drop if self.training else 0., scale=self.scale)
        out = out.transpose(1, 2).reshape(B, N, -1)
        return self.proj_drop(self.proj(out))
