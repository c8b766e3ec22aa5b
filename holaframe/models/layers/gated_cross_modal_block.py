"""AVF-MAE++ fusion block: self- and cross-attention branches per modality, mixed by gates."""

from typing import Optional, Tuple

import torch
from torch import nn

from holaframe.registry import MODELS

from .attention import Attention
from .cross_attention import CrossAttention
from .drop_path import DropPath
from .mlp import Mlp


@MODELS.register_module()
class GatedCrossModalBlock(nn.Module):
    """One layer of AVF-MAE++'s audio-visual fusion encoder, both modalities at once.

    For the video stream ``v`` (the audio stream ``a`` is symmetric, with its own weights):

    * intra-modal branch: ``v_sa = v + attn(norm1(v))``, then ``v_sa += mlp_vsa(norm_vsa(v_sa))``
      (HOLA Eq. (1)-(2));
    * inter-modal branch: ``v_cma = v + cross_attn(cross_norm1(v), cross_norm2(a))``, then
      ``v_cma += mlp_vcma(norm_vcma(v_cma))`` (HOLA Eq. (3)-(4));
    * gated mix: ``g1 = sigmoid(lv1([v_sa, v_cma]))``, ``g2 = sigmoid(lv2([v_sa, v_cma]))``,
      ``v' = norm3(g1 * v_sa + g2 * v_cma)``.

    Both branches read the streams as they were before the block. Audio names: ``attn_new`` /
    ``norm_new``, ``cross_attn_a`` / ``cross_norm1_a`` / ``cross_norm2_a``, ``mlp_asa`` /
    ``norm_asa``, ``mlp_acma`` / ``norm_acma``, ``la1``, ``la2``, ``norm3_1`` (AVF-MAE++'s
    ``CSBlock_new_no_Mask`` names, so its weights load unchanged). Both streams have width
    ``dim``; their token counts may differ.

    Args:
        dim (int): Token width of both streams.
        num_heads (int): Heads of every attention.
        mlp_ratio (float): MLP hidden width / ``dim``. Defaults to 4.
        qkv_bias (bool): q/v biases. Defaults to True.
        qk_scale (float, optional): Softmax scale override. Defaults to None.
        drop (float): Dropout after projections. Defaults to 0.
        attn_drop (float): Attention-probability dropout. Defaults to 0.
        drop_path (float): Stochastic-depth rate. Defaults to 0.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
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
                 norm_eps: float = 1e-6) -> None:
        super().__init__()
        attn_kw = dict(num_heads=num_heads, qkv_bias=qkv_bias, qk_scale=qk_scale,
                       attn_drop=attn_drop, proj_drop=drop)
        hidden = int(dim * mlp_ratio)

        def norm() -> nn.LayerNorm:
            return nn.LayerNorm(dim, eps=norm_eps)

        self.cross_attn = CrossAttention(dim, context_dim=dim, **attn_kw)
        self.cross_norm1, self.cross_norm2 = norm(), norm()
        self.cross_attn_a = CrossAttention(dim, context_dim=dim, **attn_kw)
        self.cross_norm1_a, self.cross_norm2_a = norm(), norm()
        self.norm1 = norm()
        self.attn = Attention(dim, **attn_kw)
        self.norm_new = norm()
        self.attn_new = Attention(dim, **attn_kw)
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()
        self.norm_vsa, self.mlp_vsa = norm(), Mlp(dim, hidden, drop=drop)
        self.norm_asa, self.mlp_asa = norm(), Mlp(dim, hidden, drop=drop)
        self.norm_vcma, self.mlp_vcma = norm(), Mlp(dim, hidden, drop=drop)
        self.norm_acma, self.mlp_acma = norm(), Mlp(dim, hidden, drop=drop)
        self.norm3, self.norm3_1 = norm(), norm()
        self.lv1, self.lv2 = nn.Linear(2 * dim, dim), nn.Linear(2 * dim, dim)
        self.la1, self.la2 = nn.Linear(2 * dim, dim), nn.Linear(2 * dim, dim)

    def _branches(self, x: torch.Tensor, other: torch.Tensor, attn: nn.Module, norm: nn.Module,
                  mlp_sa: nn.Module, norm_sa: nn.Module, cross: nn.Module, cross_q: nn.Module,
                  cross_kv: nn.Module, mlp_cma: nn.Module,
                  norm_cma: nn.Module) -> Tuple[torch.Tensor, torch.Tensor]:
        sa = x + self.drop_path(attn(norm(x)))
        sa = sa + self.drop_path(mlp_sa(norm_sa(sa)))
        cma = x + self.drop_path(cross(cross_q(x), context=cross_kv(other)))
        cma = cma + self.drop_path(mlp_cma(norm_cma(cma)))
        return sa, cma

    @staticmethod
    def _gate(sa: torch.Tensor, cma: torch.Tensor, gate1: nn.Module, gate2: nn.Module,
              norm: nn.Module) -> torch.Tensor:
        both = torch.cat([sa, cma], dim=-1)
        return norm(torch.sigmoid(gate1(both)) * sa + torch.sigmoid(gate2(both)) * cma)

    def forward(self, video: torch.Tensor,
                audio: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Update both streams.

        Args:
            video (torch.Tensor): ``(B, Nv, dim)``.
            audio (torch.Tensor): ``(B, Na, dim)``.

        Returns:
            tuple: the new ``(video, audio)``, same shapes.
        """
        v_sa, v_cma = self._branches(video, audio, self.attn, self.norm1, self.mlp_vsa,
                                     self.norm_vsa, self.cross_attn, self.cross_norm1,
                                     self.cross_norm2, self.mlp_vcma, self.norm_vcma)
        a_sa, a_cma = self._branches(audio, video, self.attn_new, self.norm_new, self.mlp_asa,
                                     self.norm_asa, self.cross_attn_a, self.cross_norm1_a,
                                     self.cross_norm2_a, self.mlp_acma, self.norm_acma)
        return (self._gate(v_sa, v_cma, self.lv1, self.lv2, self.norm3),
                self._gate(a_sa, a_cma, self.la1, self.la2, self.norm3_1))
