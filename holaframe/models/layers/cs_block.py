"""HiCMAE cross + self attention block (fusion encoder and decoder blocks)."""

from typing import Optional

import torch
from torch import nn

from holaframe.registry import MODELS

from .attention import Attention
from .cross_attention import CrossAttention
from .drop_path import DropPath
from .mlp import Mlp


@MODELS.register_module()
class CSBlock(nn.Module):
    """Cross-attention and self-attention, then MLP, all pre-norm residual branches.

    ``x += cross_attn(cross_norm1(x), context=cross_norm2(context))``;
    ``x += attn(norm1(x))``; ``x += mlp(norm2(x))``. ``cross_norm2`` has the context's width.

    ``order`` chooses which attention comes first. ``'cross_first'`` (default) is the order of
    HiCMAE's and AVF-MAE++'s code, in which their released weights were trained (a checkpoint
    run in the other order computes a different function). ``'self_first'`` is the order the
    HOLA paper's text describes for its fusion module (intra-modal self-attention, Eq. 1-2, then
    inter-modal cross-attention, Eq. 3-4); the parameters are the same in both orders.
    Sub-module names follow HiCMAE (``cross_attn.{q,kv,q_bias,v_bias,proj}``, ``cross_norm1``,
    ``cross_norm2``, ``norm1``, ``attn``, ``norm2``, ``mlp``; ``gamma_0..2`` only with layer
    scale).

    Args:
        dim (int): Width of the updated stream.
        context_dim (int): Width of the context stream.
        num_heads (int): Self-attention heads.
        num_cross_heads (int, optional): Cross-attention heads; defaults to ``num_heads``.
        mlp_ratio (float): MLP hidden width / ``dim``. Defaults to 4.
        qkv_bias (bool): q/v biases in both attentions. Defaults to True.
        qk_scale (float, optional): Softmax scale override. Defaults to None.
        drop (float): Dropout after projections. Defaults to 0.
        attn_drop (float): Attention-probability dropout. Defaults to 0.
        drop_path (float): Stochastic-depth rate. Defaults to 0.
        init_values (float): Layer-scale init; 0 disables it. Defaults to 0.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        order (str): ``'cross_first'`` or ``'self_first'``. Defaults to ``'cross_first'``.
    """

    ORDERS = ('cross_first', 'self_first')

    def __init__(self,
                 dim: int,
                 context_dim: int,
                 num_heads: int,
                 num_cross_heads: Optional[int] = None,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 drop: float = 0.,
                 attn_drop: float = 0.,
                 drop_path: float = 0.,
                 init_values: float = 0.,
                 norm_eps: float = 1e-6,
                 order: str = 'cross_first') -> None:
        super().__init__()
        if order not in self.ORDERS:
            raise ValueError(f'holaframe/models/layers/cs_block.py: order must be one of '
                             f'{self.ORDERS}, got {order!r}.')
        self.order = order
        num_cross_heads = num_heads if num_cross_heads is None else num_cross_heads
        self.cross_attn = CrossAttention(
            dim, context_dim=context_dim, num_heads=num_cross_heads, qkv_bias=qkv_bias,
            qk_scale=qk_scale, attn_drop=attn_drop, proj_drop=drop)
        self.cross_norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.cross_norm2 = nn.LayerNorm(context_dim, eps=norm_eps)
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(
            dim, num_heads=num_heads, qkv_bias=qkv_bias, qk_scale=qk_scale,
            attn_drop=attn_drop, proj_drop=drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop=drop)
        if init_values and init_values > 0:
            self.gamma_0 = nn.Parameter(init_values * torch.ones(dim))
            self.gamma_1 = nn.Parameter(init_values * torch.ones(dim))
            self.gamma_2 = nn.Parameter(init_values * torch.ones(dim))
        else:
            self.gamma_0, self.gamma_1, self.gamma_2 = None, None, None

    def forward(self,
                x: torch.Tensor,
                context: torch.Tensor,
                cross_attn_mask: Optional[torch.Tensor] = None,
                attn_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Apply the block.

        Args:
            x (torch.Tensor): Tokens to update ``(B, N, dim)``.
            context (torch.Tensor): Context tokens ``(B, M, context_dim)``.
            cross_attn_mask (torch.Tensor, optional): Mask broadcastable to ``(B, H, N, M)``
                (bool True = may attend).
            attn_mask (torch.Tensor, optional): Self-attention mask, see :class:`Attention`.

        Returns:
            torch.Tensor: ``(B, N, dim)``.
        """
        if self.order == 'cross_first':
            x = self._self_attend(self._cross_attend(x, context, cross_attn_mask), attn_mask)
        else:
            x = self._cross_attend(self._self_attend(x, attn_mask), context, cross_attn_mask)
        return x + self._residual(self.gamma_2, self.mlp(self.norm2(x)))

    def _residual(self, gamma: Optional[torch.Tensor], y: torch.Tensor) -> torch.Tensor:
        return self.drop_path(y if gamma is None else gamma * y)

    def _cross_attend(self, x: torch.Tensor, context: torch.Tensor,
                      mask: Optional[torch.Tensor]) -> torch.Tensor:
        cross = self.cross_attn(self.cross_norm1(x), context=self.cross_norm2(context),
                                attn_mask=mask)
        return x + self._residual(self.gamma_0, cross)

    def _self_attend(self, x: torch.Tensor, mask: Optional[torch.Tensor]) -> torch.Tensor:
        return x + self._residual(self.gamma_1, self.attn(self.norm1(x), attn_mask=mask))
