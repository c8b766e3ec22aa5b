"""Shared machinery of the AVF-MAE++ local-global encoders (not registered itself)."""

from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.utils.checkpoint as cp
from torch import nn

from holaframe.models.layers import LGBlock, RegionTokens

from .base_vit_encoder import OutIndices, resolve_arch

#: Sizes selectable with ``arch`` for the AVF-MAE++ encoders: ``base``/``large``/``huge`` are
#: AVF-MAE++'s released models (``pretrain_hicmae_dim512/640/768_patch16_160_a256`` with 10, 12
#: and 15 blocks, head width 64); ``nano`` is a CPU-sized variant that matches no release.
AVFMAE_ARCH_SETTINGS: Dict[str, Dict[str, float]] = {
    'nano': dict(embed_dim=64, depth=2, num_heads=4, mlp_ratio=4.),
    'base': dict(embed_dim=512, depth=10, num_heads=8, mlp_ratio=4.),
    'large': dict(embed_dim=640, depth=12, num_heads=10, mlp_ratio=4.),
    'huge': dict(embed_dim=768, depth=15, num_heads=12, mlp_ratio=4.),
}

#: Token sets an AVF-MAE++ encoder can return.
OUT_TOKENS = ('local', 'region')


def resolve_lg_arch(arch: Union[str, dict], file: str, **overrides) -> Dict[str, float]:
    """:func:`~holaframe.models.encoders.base_vit_encoder.resolve_arch` over
    :data:`AVFMAE_ARCH_SETTINGS`."""
    if isinstance(arch, str):
        if arch not in AVFMAE_ARCH_SETTINGS:
            raise KeyError(f'{file}: unknown arch {arch!r}; choose one of '
                           f'{sorted(AVFMAE_ARCH_SETTINGS)} or pass a dict.')
        arch = dict(AVFMAE_ARCH_SETTINGS[arch])
    return resolve_arch(arch, file, **overrides)


class LGEncoderMixin:
    """Replaces the HiCMAE blocks of a :class:`BaseViTEncoder` by :class:`LGBlock` s.

    The host class builds patch embedding, position table (with its ``pos_grid`` mapping) and
    final ``norm`` with ``depth=0``; :meth:`_build_lg` then adds ``blocks`` (LGBlocks) and
    ``regions`` (:class:`~holaframe.models.layers.RegionTokens`). State-dict keys follow
    AVF-MAE++'s encoders: ``patch_embed.proj.*``, ``blocks.{i}.*`` (see :class:`LGBlock`),
    ``norm.*``, and ``regions.region_tokens`` for its ``lg_region_tokens``, plus the two grid
    records ``pos_grid`` and ``regions.region_grid``.
    """

    _file: str

    def _build_lg(self, settings: dict, region_size: Sequence[int], keep_time_axis: bool,
                  lg_cfg: dict, qkv_bias: bool, qk_scale: Optional[float], drop_rate: float,
                  attn_drop_rate: float, drop_path_rate: float, norm_eps: float,
                  out_tokens: str) -> None:
        if out_tokens not in OUT_TOKENS:
            raise ValueError(f'{self._file}: out_tokens must be one of {OUT_TOKENS}, got '
                             f'{out_tokens!r}.')
        self.out_tokens = out_tokens
        self.depth = int(settings['depth'])
        dpr = [x.item() for x in torch.linspace(0, drop_path_rate, self.depth)]
        self.blocks = nn.ModuleList([
            LGBlock(self.embed_dim, self.num_heads, mlp_ratio=self.mlp_ratio, qkv_bias=qkv_bias,
                    qk_scale=qk_scale, drop=drop_rate, attn_drop=attn_drop_rate,
                    drop_path=dpr[i], norm_eps=norm_eps, **lg_cfg) for i in range(self.depth)
        ])
        self.regions = RegionTokens(self.grid_size, region_size, self.embed_dim,
                                    keep_time_axis=keep_time_axis)

    def _select(self, x: torch.Tensor, batch_size: int, order: torch.Tensor) -> torch.Tensor:
        regions, local = self.regions.split(x, batch_size, order)
        return self.norm(local if self.out_tokens == 'local' else regions)

    def forward(self,
                x: torch.Tensor,
                mask: Optional[torch.Tensor] = None,
                out_indices: OutIndices = None
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, List[torch.Tensor]]]:
        """Encode, optionally dropping masked tokens first.

        Args:
            x (torch.Tensor): Encoder input (see the subclass for its layout).
            mask (torch.Tensor, optional): ``(B, N)`` bool, ``True`` = masked = removed before
                the blocks (pre-training); every row must keep the same number of tokens, a
                multiple that fills the regions (:meth:`RegionTokens.visible_order`).
            out_indices (None | 'all' | int | Sequence[int]): Blocks whose outputs are also
                returned, each normalised by the shared final ``norm``.

        Returns:
            torch.Tensor | tuple: ``norm`` of the last block's tokens: with
            ``out_tokens='local'`` the local (visible) tokens ``(B, N_vis, C)`` in ascending
            token order, with ``'region'`` the region tokens ``(B, n, C)``; with
            ``out_indices`` a tuple ``(tokens, [tokens of block i for i in out_indices])``.
        """
        if mask is None:
            tokens = self.embed(x)
            order = self.regions.order
        else:
            B, N = x.shape[0], self.num_patches
            if tuple(mask.shape) != (B, N):
                raise ValueError(f'{self._file}: mask must have shape (B, N) = {(B, N)}, got '
                                 f'{tuple(mask.shape)}.')
            mask = mask.to(device=x.device, dtype=torch.bool)
            num_visible = (~mask).sum(1)
            if not bool((num_visible == num_visible[0]).all()) or int(num_visible[0]) == 0:
                raise ValueError(f'{self._file}: every sample must keep the same, non-zero '
                                 f'number of visible tokens; got {num_visible.tolist()}.')
            order = self.regions.visible_order(int(num_visible[0]))
            tokens = self.embed(x, keep=~mask)
        tokens = self.pos_drop(tokens)
        B = tokens.shape[0]
        h = self.regions.partition(tokens, order)
        wanted = set(self._resolve_out_indices(out_indices)) if out_indices is not None else set()
        collected = {}
        for i, blk in enumerate(self.blocks):
            if self.with_cp and self.training and h.requires_grad:
                h = cp.checkpoint(blk, h, B, use_reentrant=False)
            else:
                h = blk(h, B)
            if i in wanted:
                collected[i] = h
        out = self._select(h, B, order)
        if out_indices is None:
            return out
        return out, [out if i == self.depth - 1 else self._select(collected[i], B, order)
                     for i in self._resolve_out_indices(out_indices)]
