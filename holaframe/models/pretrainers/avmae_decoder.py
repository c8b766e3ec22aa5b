"""Modality-specific AV-MAE decoder (HiCMAE layout, optional hierarchical skip inputs)."""

from typing import Optional, Sequence

import torch
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule
from torch import nn

from holaframe.models.layers import Block, CSBlock
from holaframe.registry import MODELS


@MODELS.register_module()
class AVMAEDecoder(BaseModule):
    """Transformer decoder that reconstructs the patches of one modality.

    With ``num_skips = k > 0`` (HiCMAE's hierarchical decoder) block 0 is a plain
    self-attention :class:`~holaframe.models.layers.Block` and blocks ``1..k`` are
    :class:`~holaframe.models.layers.CSBlock` s whose context is the ``i``-th skip input counted
    **from the end** (``skips[-i]``): the deepest encoder layer feeds decoder block 1; then
    ``depth`` must equal ``k + 1``. With ``num_skips = 0`` every block is a plain ``Block``.
    After the blocks, ``norm`` runs on the trailing ``return_token_num`` positions only (the
    mask tokens) and ``head`` maps them to ``out_channels`` target values each.

    State-dict keys follow HiCMAE's ``decoder``: ``blocks.{i}.*`` (``cross_attn``/
    ``cross_norm1``/``cross_norm2`` for ``i >= 1`` with skips), ``norm.*``, ``head.*``.

    Args:
        out_channels (int): Values per reconstructed token (video ``3 * 2 * 16 * 16 = 1536``,
            audio ``16 * 16 = 256``).
        embed_dim (int): Decoder width. Defaults to 384 (HiCMAE-B).
        depth (int): Number of blocks. Defaults to 4.
        num_heads (int): Attention heads. Defaults to 6.
        num_skips (int): Number of hierarchical skip inputs (0 = none). Defaults to 3.
        mlp_ratio (float): MLP ratio. Defaults to 4.
        qkv_bias (bool): q/v biases. Defaults to True.
        drop_path_rate (float): Stochastic depth, linear over blocks. Defaults to 0.
        norm_eps (float): LayerNorm epsilon. Defaults to 1e-6.
        with_cp (bool): Activation checkpointing while training. Defaults to False.
        init_cfg (dict, optional): MMEngine init config.
    """

    _file = 'holaframe/models/pretrainers/avmae_decoder.py'

    def __init__(self,
                 out_channels: int,
                 embed_dim: int = 384,
                 depth: int = 4,
                 num_heads: int = 6,
                 num_skips: int = 3,
                 mlp_ratio: float = 4.,
                 qkv_bias: bool = True,
                 drop_path_rate: float = 0.,
                 norm_eps: float = 1e-6,
                 with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if num_skips and depth != num_skips + 1:
            raise ValueError(f'{self._file}: with {num_skips} hierarchical skip inputs the '
                             f'decoder depth must be {num_skips + 1}, got {depth}.')
        self.embed_dim = embed_dim
        self.out_channels = out_channels
        self.num_skips = num_skips
        self.with_cp = with_cp
        dpr = [x.item() for x in torch.linspace(0, drop_path_rate, depth)]
        common = dict(mlp_ratio=mlp_ratio, qkv_bias=qkv_bias, norm_eps=norm_eps)
        blocks = []
        for i in range(depth):
            if i == 0 or not num_skips:
                blocks.append(Block(embed_dim, num_heads, drop_path=dpr[i], **common))
            else:
                blocks.append(CSBlock(embed_dim, embed_dim, num_heads, num_cross_heads=num_heads,
                                      drop_path=dpr[i], **common))
        self.blocks = nn.ModuleList(blocks)
        self.norm = nn.LayerNorm(embed_dim, eps=norm_eps)
        self.head = nn.Linear(embed_dim, out_channels)

    def init_weights(self) -> None:
        """HiCMAE decoder init (xavier-uniform Linear, zero biases, unit norms) unless
        ``init_cfg`` is given."""
        if self.init_cfg is None:
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.LayerNorm):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
            self._is_init = True
        else:
            super().init_weights()

    def _run(self, blk: nn.Module, *args: torch.Tensor) -> torch.Tensor:
        if self.with_cp and self.training and args[0].requires_grad:
            return cp.checkpoint(blk, *args, use_reentrant=False)
        return blk(*args)

    def forward(self,
                x: torch.Tensor,
                return_token_num: int,
                skips: Optional[Sequence[torch.Tensor]] = None) -> torch.Tensor:
        """Decode.

        Args:
            x (torch.Tensor): ``(B, N_vis + M, embed_dim)``: visible tokens, then the ``M``
                mask tokens (Eq. (5)).
            return_token_num (int): ``M``; predictions are made for the last ``M`` positions
                (all positions if 0).
            skips (Sequence[torch.Tensor], optional): ``num_skips`` context sequences
                ``(B, N_vis, embed_dim)`` in encoder-layer order (shallow to deep).

        Returns:
            torch.Tensor: ``(B, M, out_channels)``.
        """
        if self.num_skips and (skips is None or len(skips) != self.num_skips):
            got = None if skips is None else len(skips)
            raise ValueError(f'{self._file}: expected {self.num_skips} skip inputs, got {got}.')
        for i, blk in enumerate(self.blocks):
            if i == 0 or not self.num_skips:
                x = self._run(blk, x)
            else:
                x = self._run(blk, x, skips[-i])  # hierarchical skip, counted from the end
        if return_token_num > 0:
            x = x[:, -return_token_num:]
        return self.head(self.norm(x))
