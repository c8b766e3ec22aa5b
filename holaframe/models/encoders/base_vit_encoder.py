"""Shared machinery of the HiCMAE-compatible ViT encoders (not registered itself)."""

import warnings
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.utils.checkpoint as cp
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch import nn

from holaframe.models.layers import Block, map_sinusoid_table

#: Sizes selectable with ``arch``. ``tiny``/``small``/``base`` have the shapes of HiCMAE-T/S/B
#: (``avit_dim256/384/512_patch16_160_a256`` with 10 blocks), so their released checkpoints
#: load; ``nano`` is a CPU-sized variant for smoke tests and synthetic-data configs.
ARCH_SETTINGS: Dict[str, Dict[str, float]] = {
    'nano': dict(embed_dim=64, depth=2, num_heads=4, mlp_ratio=4.),
    'tiny': dict(embed_dim=256, depth=10, num_heads=4, mlp_ratio=4.),
    'small': dict(embed_dim=384, depth=10, num_heads=6, mlp_ratio=4.),
    'base': dict(embed_dim=512, depth=10, num_heads=8, mlp_ratio=4.),
}

OutIndices = Optional[Union[str, int, Sequence[int]]]


def resolve_arch(arch: Union[str, dict], file: str, **overrides) -> Dict[str, float]:
    """Merge an ``arch`` name (or dict) with explicit overrides that are not None.

    Args:
        arch (str | dict): A key of :data:`ARCH_SETTINGS` or a dict with ``embed_dim``,
            ``depth``, ``num_heads`` and ``mlp_ratio``.
        file (str): File name used in error messages.
        **overrides: Values that replace the arch values when not None.

    Returns:
        dict: ``embed_dim``, ``depth``, ``num_heads``, ``mlp_ratio``.
    """
    if isinstance(arch, str):
        if arch not in ARCH_SETTINGS:
            raise KeyError(f'{file}: unknown arch {arch!r}; choose one of '
                           f'{sorted(ARCH_SETTINGS)} or pass a dict.')
        settings = dict(ARCH_SETTINGS[arch])
    else:
        settings = dict(arch)
    settings.update({k: v for k, v in overrides.items() if v is not None})
    missing = {'embed_dim', 'depth', 'num_heads', 'mlp_ratio'} - set(settings)
    if missing:
        raise KeyError(f'{file}: arch is missing {sorted(missing)}.')
    return settings


class BaseViTEncoder(BaseModule):
    """Patch embedding + fixed sin-cos table + HiCMAE :class:`Block` stack + final ``norm``.

    Subclasses set ``self.patch_embed`` (with ``num_patches``, ``grid_size`` and a
    ``forward(x, keep=None)`` that embeds only the ``keep`` tokens when given) before calling
    :meth:`_build_transformer`. State-dict keys follow HiCMAE: ``patch_embed.proj.*``,
    ``blocks.{i}.{norm1,attn.qkv,attn.q_bias,attn.v_bias,attn.proj,norm2,mlp.fc1,mlp.fc2}.*``,
    ``norm.*``. The position table is a non-persistent buffer ``pos_embed`` ``(1, N, C)`` (not in
    the state dict, as in HiCMAE).

    Positions across resolutions: the persistent buffer ``pos_grid`` (in the state dict) records
    the token grid on which the positions were learned (the pre-training grid). When it differs
    from this encoder's ``grid_size`` (pre-training at 160 px, fine-tuning at 224 px), each token
    gets the position it would have had on that grid (:func:`map_sinusoid_table`), so pre-trained
    weights keep their meaning. Loading a state dict sets ``pos_grid`` from the checkpoint (one
    info line when the positions are mapped); a checkpoint without it (e.g. one converted from
    HiCMAE without its input size) loads with a warning and keeps this encoder's own grid, or the
    ``pos_grid`` given to the constructor.
    """

    _file = 'holaframe/models/encoders/base_vit_encoder.py'

    def _build_transformer(self, settings: dict, qkv_bias: bool, qk_scale: Optional[float],
                           drop_rate: float, attn_drop_rate: float, drop_path_rate: float,
                           init_values: float, norm_eps: float, with_cp: bool,
                           pos_grid: Optional[Sequence[int]] = None) -> None:
        self.embed_dim = int(settings['embed_dim'])
        self.depth = int(settings['depth'])
        self.num_heads = int(settings['num_heads'])
        self.mlp_ratio = float(settings['mlp_ratio'])
        self.num_patches = self.patch_embed.num_patches
        self.grid_size = tuple(self.patch_embed.grid_size)
        self.with_cp = with_cp
        self.register_buffer('pos_grid', torch.tensor(self.grid_size, dtype=torch.long))
        self.register_buffer(
            'pos_embed', map_sinusoid_table(self.grid_size, self.grid_size, self.embed_dim),
            persistent=False)
        if pos_grid is not None:
            self.set_pos_grid(pos_grid)
        self.pos_drop = nn.Dropout(drop_rate)
        dpr = [x.item() for x in torch.linspace(0, drop_path_rate, self.depth)]
        self.blocks = nn.ModuleList([
            Block(self.embed_dim, self.num_heads, mlp_ratio=self.mlp_ratio, qkv_bias=qkv_bias,
                  qk_scale=qk_scale, drop=drop_rate, attn_drop=attn_drop_rate, drop_path=dpr[i],
                  init_values=init_values, norm_eps=norm_eps) for i in range(self.depth)
        ])
        self.norm = nn.LayerNorm(self.embed_dim, eps=norm_eps)

    def init_weights(self) -> None:
        """HiCMAE initialisation (trunc-normal std 0.02 for Linear, zero biases, unit norms), then
        ``init_cfg`` if given (e.g. ``PretrainedPart``: what it does not load keeps this init)."""
        if not self._is_init:
            for m in self.modules():
                if isinstance(m, nn.Linear):
                    nn.init.trunc_normal_(m.weight, std=.02)
                    if m.bias is not None:
                        nn.init.zeros_(m.bias)
                elif isinstance(m, nn.LayerNorm):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
        if self.init_cfg is not None:
            super().init_weights()
        self._is_init = True

    def set_pos_grid(self, grid: Sequence[int]) -> None:
        """Use positions learned on ``grid`` (see the class docstring).

        Args:
            grid (Sequence[int]): Token grid of the pre-training, e.g. ``(8, 10, 10)``.
        """
        grid = tuple(int(g) for g in grid)
        if not grid or min(grid) <= 0:
            raise ValueError(f'{self._file}: pos_grid must be positive sizes, got {grid}.')
        self.pos_grid = torch.tensor(grid, dtype=torch.long, device=self.pos_grid.device)
        self.pos_embed = map_sinusoid_table(grid, self.grid_size, self.embed_dim).to(
            device=self.pos_embed.device, dtype=self.pos_embed.dtype)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        key = prefix + 'pos_grid'
        saved = state_dict.get(key)
        if saved is None:
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict,
                                          missing_keys, unexpected_keys, error_msgs)
            if key in missing_keys:
                missing_keys.remove(key)
            warnings.warn(
                f'{self._file}: the checkpoint has no {key!r} (the token grid its positions '
                f'were learned on); assuming {tuple(self.pos_grid.tolist())}. If it was '
                f'trained on another grid (HiCMAE releases: 160 px, video (8, 10, 10), audio '
                f'(16, 8)), give the encoder pos_grid=... .', stacklevel=2)
            return
        grid = tuple(int(round(float(g))) for g in saved.reshape(-1).tolist())
        if grid != tuple(self.pos_grid.tolist()):
            self.set_pos_grid(grid)  # also resizes the buffer so that the copy below fits
        if grid != self.grid_size:
            name = prefix.rstrip('.') or type(self).__name__
            print_log(f'{name}: positions learned on token grid {grid} mapped to this grid '
                      f'{self.grid_size}', logger='current')
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)

    @property
    def num_layers(self) -> int:
        """Number of transformer blocks."""
        return len(self.blocks)

    def embed(self, x: torch.Tensor, keep: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Patch/token embedding plus the fixed position table.

        Args:
            x (torch.Tensor): Encoder input.
            keep (torch.Tensor, optional): ``(B, N)`` bool tokens to keep (the same count per
                row); the patch embedding embeds only those (cheaper, same result).

        Returns:
            torch.Tensor: ``(B, N, C)``, or ``(B, n_keep, C)`` in token order with ``keep``.
        """
        if keep is None:
            x = self.patch_embed(x)
            return x + self.pos_embed.to(dtype=x.dtype)
        B = keep.shape[0]
        x = self.patch_embed(x, keep=keep)
        pos = self.pos_embed.to(dtype=x.dtype).expand(B, -1, -1)
        return x + pos[keep].reshape(B, -1, x.shape[-1])

    def _resolve_out_indices(self, out_indices: OutIndices) -> List[int]:
        if isinstance(out_indices, str):
            if out_indices != 'all':
                raise ValueError(f'{self._file}: out_indices must be None, "all", an int or a '
                                 f'sequence of ints, got {out_indices!r}.')
            return list(range(self.depth))
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        resolved = []
        for i in out_indices:
            j = i + self.depth if i < 0 else i
            if not 0 <= j < self.depth:
                raise IndexError(f'{self._file}: out index {i} outside 0..{self.depth - 1}.')
            resolved.append(j)
        return resolved

    def forward(self,
                x: torch.Tensor,
                mask: Optional[torch.Tensor] = None,
                out_indices: OutIndices = None
                ) -> Union[torch.Tensor, Tuple[torch.Tensor, List[torch.Tensor]]]:
        """Encode, optionally dropping masked tokens first.

        Args:
            x (torch.Tensor): Encoder input (see the subclass for its layout).
            mask (torch.Tensor, optional): ``(B, N)`` bool, ``True`` = masked = removed before
                the blocks (pre-training). Every row must mask the same number of tokens.
                Visible tokens keep ascending token order.
            out_indices (None | 'all' | int | Sequence[int]): Blocks whose outputs are also
                returned, each normalised by the shared final ``norm`` (HiCMAE's intermediate
                features). ``'all'`` = every block (fine-tuning), e.g. ``(3, 6, 9)`` = the
                pre-training skip layers. Negative indices count from the end.

        Returns:
            torch.Tensor | tuple: ``norm(last block output)`` ``(B, N_vis, C)``; with
            ``out_indices`` a tuple ``(tokens, [norm(block_i output) for i in out_indices])``,
            each ``(B, N_vis, C)``, in the order given.
        """
        if mask is None:
            x = self.embed(x)
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
            x = self.embed(x, keep=~mask)  # only the visible tokens are embedded
        x = self.pos_drop(x)
        wanted = set(self._resolve_out_indices(out_indices)) if out_indices is not None else set()
        collected = {}
        for i, blk in enumerate(self.blocks):
            if self.with_cp and self.training and x.requires_grad:
                x = cp.checkpoint(blk, x, use_reentrant=False)
            else:
                x = blk(x)
            if i in wanted:
                collected[i] = x
        out = self.norm(x)
        if out_indices is None:
            return out
        order = self._resolve_out_indices(out_indices)
        return out, [out if i == self.depth - 1 else self.norm(collected[i]) for i in order]
