"""HiCMAE pre-norm transformer block."""

from typing import Optional

import torch
from torch import nn

from holaframe.registry import MODELS

from .attention import Attention
from .drop_path import DropPath
from .mlp import Mlp


@MODELS.register_module()
class Block(nn.Module):
    """Pre-norm transformer block: ``x += attn(norm1(x)); x += mlp(norm2(x))``.

    Same sub-module names as HiCMAE (``norm1``, ``attn.{qkv,q_bias,v_bias,proj}``, ``norm2``,
    ``mlp.{fc1,fc2}``; ``gamma_1``/``gamma_2`` only with layer scale ``init_values > 0``).

    Args:
        dim (int): Token width.
        num_heads (int): Attention heads.
        mlp_ratio (float): MLP hidden width / ``dim``. Defaults to 4.
        qkv_bias (bool): q/v biases in attention. Defaults to True.
        qk_scale (float, optional): Softmax scale override. Defaults to None.
        drop (float): Dropout after attention/MLP projections. Defaults to 0.
        attn_drop (float): Attention-probability dropout. Defaults to 0.
        drop_path (float): Stochastic-depth rate. Defaults to 0.
        init_values (float): Layer-scale init; 0 disables it (HiCMAE default). Defaults to 0.
        norm_eps (float): LayerNorm epsilon (HiCMAE: 1e-6). Defaults to 1e-6.
    """

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 drop: float = 0.,
                 attn_drop: float = 0.,
                 drop_path: float = 0.,
                 init_values: float = 0.,
                 norm_eps: float = 1e-6) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(
            dim, num_heads=num_heads, qkv_bias=qkv_bias, qk_scale=qk_scale,
            attn_drop=attn_drop, proj_drop=drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop=drop)
        if init_values and init_values > 0:
            self.gamma_1 = nn.Parameter(init_values * torch.ones(dim))
            self.gamma_2 = nn.Parameter(init_values * torch.ones(dim))
        else:
            self.gamma_1, self.gamma_2 = None, None

    def forward(self, x: torch.Tensor, attn_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Apply the block.

        Args:
            x (torch.Tensor): Tokens ``(B, N, dim)``.
            attn_mask (torch.Tensor, optional): See :meth:`Attention.forward`.

        Returns:
            torch.Tensor: ``(B, N, dim)``.
        """
        if self.gamma_1 is None:
            x = x + self.drop_path(self.attn(self.norm1(x), attn_mask=attn_mask))
            x = x + self.drop_path(self.mlp(self.norm2(x)))
        else:
            x = x + self.drop_path(self.gamma_1 * self.attn(self.norm1(x), attn_mask=attn_mask))
            x = x + self.drop_path(self.gamma_2 * self.mlp(self.norm2(x)))
        return x
