"""AVF-MAE++ local-global block: attention inside regions, among region tokens, and between."""

from typing import Optional

import torch
from torch import nn

from holaframe.registry import MODELS

from .cross_attention import CrossAttention
from .drop_path import DropPath
from .mlp import Mlp


@MODELS.register_module()
class LGBlock(nn.Module):
    """Local-global transformer block of AVF-MAE++'s modality encoders.

    The tokens of a sample are split into regions (see
    :class:`~holaframe.models.layers.RegionTokens`); each region is one row of ``x``,
    ``(B * n, 1 + s, C)``: a learnable region ("messenger") token followed by the ``s`` local
    tokens of the region. One block applies, each as a pre-norm residual branch:

    1. **local** (``first_attn``): ``'self'`` = self-attention among the ``1 + s`` tokens of each
       region; ``'cross'`` = only the region token attends to its local tokens;
    2. **global** (``second_attn``, unless ``no_second``): self-attention among the ``n`` region
       tokens of a sample;
    3. **global -> local** (``third_attn``): ``'cross'`` = every local token of a sample attends
       to the sample's region tokens; ``'self'`` = a second self-attention inside each region;
    4. **local -> global** (``fourth_attn``): the region tokens, as they were after step 2,
       attend to all local tokens of the sample as they are after step 3, and replace the
       region tokens;
    5. ``mlp`` on every token.

    Attention is softmax(QK^T / sqrt(d)) V per head (HOLA Eq. (1)-(4)), always with the
    :class:`~holaframe.models.layers.CrossAttention` parameter layout (``q``, ``kv``, ``q_bias``,
    ``v_bias``, ``proj``); self-attention passes the same tokens as queries and context.
    Sub-module names follow AVF-MAE++ (``first_attn_norm0``, ``first_attn_norm1`` (cross only),
    ``first_attn``, ``second_attn_norm0``, ``second_attn``, ``third_attn_norm0``,
    ``third_attn_norm1`` (cross only), ``third_attn``, ``fourth_attn_norm0``,
    ``fourth_attn_norm1``, ``fourth_attn``, ``norm2``, ``mlp``), so its weights load unchanged.
    Shared attentions (``attn_param_sharing_*``) are the same module under two names, as in
    AVF-MAE++'s state dicts. AVF-MAE++'s code runs only ``third_attn_type='cross'`` (its step 4
    reads variables that only the cross branch defines); ``'self'`` follows the same data flow.

    Args:
        dim (int): Token width C.
        num_heads (int): Attention heads of every step.
        mlp_ratio (float): MLP hidden width / ``dim``. Defaults to 4.
        qkv_bias (bool): q/v biases. Defaults to True.
        qk_scale (float, optional): Softmax scale override. Defaults to None.
        drop (float): Dropout after projections. Defaults to 0.
        attn_drop (float): Attention-probability dropout. Defaults to 0.
        drop_path (float): Stochastic-depth rate of every branch. Defaults to 0.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        first_attn_type (str): ``'self'`` (AVF-MAE++ default) or ``'cross'``.
        third_attn_type (str): ``'cross'`` (AVF-MAE++ default) or ``'self'``.
        attn_param_sharing_first_third (bool): ``third_attn`` is ``first_attn``.
            Defaults to False.
        attn_param_sharing_all (bool): ``second_attn`` and ``third_attn`` are ``first_attn``.
            Defaults to False.
        no_second (bool): Skip step 2. Defaults to False.
    """

    ATTN_TYPES = ('self', 'cross')
    _file = 'holaframe/models/layers/lg_block.py'

    def __init__(self,
                 dim: int,
                 num_heads: int,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 drop: float = 0.,
                 attn_drop: float = 0.,
                 drop_path: float = 0.,
                 norm_eps: float = 1e-6,
                 first_attn_type: str = 'self',
                 third_attn_type: str = 'cross',
                 attn_param_sharing_first_third: bool = False,
                 attn_param_sharing_all: bool = False,
                 no_second: bool = False) -> None:
        super().__init__()
        for name, value in (('first_attn_type', first_attn_type),
                            ('third_attn_type', third_attn_type)):
            if value not in self.ATTN_TYPES:
                raise ValueError(f'{self._file}: {name} must be one of {self.ATTN_TYPES}, got '
                                 f'{value!r}.')
        self.first_attn_type = first_attn_type
        self.third_attn_type = third_attn_type
        self.no_second = no_second

        def attention() -> CrossAttention:
            return CrossAttention(dim, num_heads=num_heads, qkv_bias=qkv_bias, qk_scale=qk_scale,
                                  attn_drop=attn_drop, proj_drop=drop)

        def norm() -> nn.LayerNorm:
            return nn.LayerNorm(dim, eps=norm_eps)

        self.first_attn_norm0 = norm()
        if first_attn_type == 'cross':
            self.first_attn_norm1 = norm()
        self.first_attn = attention()
        if not no_second:
            self.second_attn_norm0 = norm()
            self.second_attn = self.first_attn if attn_param_sharing_all else attention()
        self.third_attn_norm0 = norm()
        if third_attn_type == 'cross':
            self.third_attn_norm1 = norm()
        self.third_attn = (self.first_attn if attn_param_sharing_first_third
                           or attn_param_sharing_all else attention())
        self.fourth_attn_norm0 = norm()
        self.fourth_attn_norm1 = norm()
        self.fourth_attn = attention()
        self.drop_path = DropPath(drop_path) if drop_path > 0. else nn.Identity()
        self.norm2 = norm()
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop=drop)

    @staticmethod
    def _self_attend(attn: nn.Module, norm: nn.Module, x: torch.Tensor) -> torch.Tensor:
        y = norm(x)
        return attn(y, context=y)

    def forward(self, x: torch.Tensor, batch_size: int) -> torch.Tensor:
        """Apply the block.

        Args:
            x (torch.Tensor): ``(B * n, 1 + s, C)``: per region its region token, then its ``s``
                local tokens; rows ordered sample-major (all regions of sample 0 first).
            batch_size (int): B.

        Returns:
            torch.Tensor: ``(B * n, 1 + s, C)``.
        """
        bn, length, dim = x.shape
        if batch_size <= 0 or bn % batch_size:
            raise ValueError(f'{self._file}: {bn} region rows do not split into batch_size '
                             f'{batch_size} samples.')
        b, n, s = batch_size, bn // batch_size, length - 1
        # 1. Local: inside each region.
        if self.first_attn_type == 'self':
            x = x + self.drop_path(self._self_attend(self.first_attn, self.first_attn_norm0, x))
        else:
            region = x[:, :1] + self.drop_path(self.first_attn(
                self.first_attn_norm0(x[:, :1]), context=self.first_attn_norm1(x[:, 1:])))
            x = torch.cat([region, x[:, 1:]], dim=1)
        # 2. Global: among the region tokens of a sample.
        messengers = x[:, 0].reshape(b, n, dim)
        if not self.no_second:
            messengers = messengers + self.drop_path(
                self._self_attend(self.second_attn, self.second_attn_norm0, messengers))
            x = torch.cat([messengers.reshape(bn, 1, dim), x[:, 1:]], dim=1)
        # 3. Global -> local.
        if self.third_attn_type == 'self':
            x = x + self.drop_path(self._self_attend(self.third_attn, self.third_attn_norm0, x))
            local = x[:, 1:].reshape(b, n * s, dim)
        else:
            local = x[:, 1:].reshape(b, n * s, dim)
            local = local + self.drop_path(self.third_attn(
                self.third_attn_norm0(local), context=self.third_attn_norm1(messengers)))
        # 4. Local -> global: the step-2 region tokens read every local token of the sample.
        messengers = messengers + self.drop_path(self.fourth_attn(
            self.fourth_attn_norm0(messengers), context=self.fourth_attn_norm1(local)))
        x = torch.cat([messengers.reshape(bn, 1, dim), local.reshape(bn, s, dim)], dim=1)
        return x + self.drop_path(self.mlp(self.norm2(x)))
