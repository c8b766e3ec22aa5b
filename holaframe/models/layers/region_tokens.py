"""Learnable region tokens of AVF-MAE++'s local-global encoders, and the region partition."""

import math
import warnings
from typing import Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from torch import nn

from holaframe.registry import MODELS

from .pos_embed import resample_grid_table


def map_region_tokens(tokens: torch.Tensor, source_grid: Sequence[int],
                      target_grid: Sequence[int]) -> torch.Tensor:
    """Region tokens learned on ``source_grid`` of regions, placed on ``target_grid``.

    The tokens, viewed as ``(*source_grid, C)``, are interpolated linearly along each axis with
    corners mapped onto corners (the rule of
    :func:`~holaframe.models.layers.map_sinusoid_table`); grids of different rank are padded
    with trailing axes of size one, so an fbank region grid ``(4, 2)`` gives an MFCC region grid
    ``(8,)`` the mean of its two frequency columns at each time.

    Args:
        tokens (torch.Tensor): ``(prod(source_grid), C)``.
        source_grid (Sequence[int]): Region grid the tokens were learned on.
        target_grid (Sequence[int]): Region grid wanted.

    Returns:
        torch.Tensor: ``(prod(target_grid), C)`` in the dtype of ``tokens``.
    """
    source = tuple(int(g) for g in source_grid)
    target = tuple(int(g) for g in target_grid)
    if tokens.ndim != 2 or tokens.shape[0] != math.prod(source):
        raise ValueError(f'holaframe/models/layers/region_tokens.py: {tuple(tokens.shape)} '
                         f'region tokens do not fill the region grid {source}.')
    if source == target:
        return tokens
    table = tokens.detach().to('cpu', torch.float64).numpy()
    table = resample_grid_table(table, source, target)
    return torch.from_numpy(table).to(device=tokens.device, dtype=tokens.dtype)


@MODELS.register_module()
class RegionTokens(nn.Module):
    """Region partition of a token grid with one learnable token per region (AVF-MAE++).

    The token grid (video ``(T', H', W')``, fbank ``(T', F')``, MFCC ``(T,)``; tokens
    flattened row-major) is cut into regions of ``region_size`` tokens; ``region_grid`` =
    grid // region_size regions, numbered row-major. :meth:`partition` gathers the tokens of each
    region and puts the region's learnable token in front: ``(B, N, C)`` ->
    ``(B * n, 1 + s, C)``, the input of :class:`~holaframe.models.layers.LGBlock`;
    :meth:`split` undoes it. ``order`` lists, for each position of the partitioned sequence, the
    index of the token it holds.

    With a mask (pre-training), AVF-MAE++ groups the **visible** tokens, in ascending token
    order, into equal consecutive chunks: with ``keep_time_axis`` (video) the grid's first axis
    is cut into its regions and, in every time step, the visible tokens are split into as many
    chunks as there are regions per step; otherwise (audio) all visible tokens are split into
    ``n`` chunks. The chunks are exact regions only when the visible tokens of each region are
    equally many, e.g. tube masking with a region spanning the frame width;
    :meth:`visible_order` gives the order.

    State dict: ``region_tokens`` ``(n, C)`` (AVF-MAE++'s ``lg_region_tokens``) and the
    persistent buffer ``region_grid``. Loading tokens learned on another region grid (another
    resolution, or fbank -> MFCC) maps them with :func:`map_region_tokens` (one info line); a
    checkpoint without ``region_grid`` is assumed to have this grid (with a warning).

    Args:
        grid_size (Sequence[int]): Token grid.
        region_size (Sequence[int]): Region size per axis; must divide ``grid_size``.
        embed_dim (int): Token width C.
        keep_time_axis (bool): Masked grouping per time step (AVF-MAE++ video) instead of over
            all visible tokens (AVF-MAE++ audio). Defaults to False.
    """

    _file = 'holaframe/models/layers/region_tokens.py'

    def __init__(self, grid_size: Sequence[int], region_size: Sequence[int], embed_dim: int,
                 keep_time_axis: bool = False) -> None:
        super().__init__()
        grid = tuple(int(g) for g in grid_size)
        region = tuple(int(r) for r in region_size)
        if len(grid) != len(region) or min(region, default=0) <= 0 or any(
                g % r for g, r in zip(grid, region)):
            raise ValueError(f'{self._file}: region_size {region} must have one positive size '
                             f'per axis of the token grid {grid} and divide it.')
        self.grid_size = grid
        self.region_size = region
        self.region_grid_size = tuple(g // r for g, r in zip(grid, region))
        self.num_regions = math.prod(self.region_grid_size)
        self.region_length = math.prod(region)
        self.keep_time_axis = bool(keep_time_axis) and len(grid) > 1
        self.region_tokens = nn.Parameter(torch.zeros(self.num_regions, embed_dim))
        nn.init.trunc_normal_(self.region_tokens, std=.02)
        self.register_buffer('region_grid', torch.tensor(self.region_grid_size, dtype=torch.long))
        # Full grid: split every axis into (regions, inside), regions first.
        interleaved = [v for pair in zip(self.region_grid_size, region) for v in pair]
        ndim = len(grid)
        perm = [2 * i for i in range(ndim)] + [2 * i + 1 for i in range(ndim)]
        order = torch.arange(math.prod(grid)).reshape(interleaved).permute(perm).flatten()
        self.register_buffer('order', order, persistent=False)

    def visible_order(self, num_visible: int) -> torch.Tensor:
        """Partition order of ``num_visible`` visible tokens (AVF-MAE++ pre-training).

        Args:
            num_visible (int): Visible tokens per sample.

        Returns:
            torch.Tensor: ``(num_visible,)`` indices into the visible tokens.
        """
        if self.keep_time_axis:
            steps, per_region = self.region_grid_size[0], self.region_size[0]
            chunks = self.num_regions // steps
            div = steps * per_region * chunks
        else:
            div = self.num_regions
        if num_visible <= 0 or num_visible % div:
            raise ValueError(
                f'{self._file}: {num_visible} visible tokens do not split into the '
                f'{self.num_regions} regions {self.region_grid_size} of grid {self.grid_size} '
                f'(need a multiple of {div}); choose a mask ratio that keeps as many visible '
                'tokens in every region (AVF-MAE++: tube 0.9 on video, random 0.8125 on audio).')
        index = torch.arange(num_visible, device=self.order.device)
        if not self.keep_time_axis:
            return index
        return index.reshape(steps, per_region, chunks, -1).permute(0, 2, 1, 3).flatten()

    def partition(self, x: torch.Tensor, order: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Group tokens by region and prepend each region's token.

        Args:
            x (torch.Tensor): ``(B, N, C)`` tokens in ascending token order (all tokens, or the
                visible ones with ``order`` from :meth:`visible_order`).
            order (torch.Tensor, optional): Partition order; defaults to the full grid's.

        Returns:
            torch.Tensor: ``(B * n, 1 + N / n, C)``.
        """
        order = self.order if order is None else order
        B, N, C = x.shape
        if N != order.numel():
            raise ValueError(f'{self._file}: got {N} tokens, the partition order has '
                             f'{order.numel()}.')
        grouped = x[:, order].reshape(B * self.num_regions, N // self.num_regions, C)
        tokens = self.region_tokens.to(x.dtype)[None].expand(B, -1, -1).reshape(-1, 1, C)
        return torch.cat([tokens, grouped], dim=1)

    def split(self, x: torch.Tensor, batch_size: int,
              order: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Inverse of :meth:`partition`.

        Args:
            x (torch.Tensor): ``(B * n, 1 + s, C)``.
            batch_size (int): B.
            order (torch.Tensor, optional): The order given to :meth:`partition`.

        Returns:
            tuple: region tokens ``(B, n, C)`` (region-grid order) and local tokens
            ``(B, n * s, C)`` back in ascending token order.
        """
        order = self.order if order is None else order
        C = x.shape[-1]
        regions = x[:, 0].reshape(batch_size, self.num_regions, C)
        grouped = x[:, 1:].reshape(batch_size, -1, C)
        return regions, grouped[:, torch.argsort(order)]

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys,
                              unexpected_keys, error_msgs) -> None:
        grid_key, token_key = prefix + 'region_grid', prefix + 'region_tokens'
        saved_grid = state_dict.get(grid_key)
        if saved_grid is None:
            if token_key in state_dict:
                warnings.warn(
                    f'{self._file}: the checkpoint has no {grid_key!r} (the region grid its '
                    f'region tokens were learned on); assuming {self.region_grid_size}.',
                    stacklevel=2)
                state_dict[grid_key] = self.region_grid.clone()
        else:
            grid = tuple(int(g) for g in saved_grid.reshape(-1).tolist())
            tokens = state_dict.get(token_key)
            if grid != self.region_grid_size and tokens is not None:
                state_dict[token_key] = map_region_tokens(tokens, grid, self.region_grid_size)
                name = prefix.rstrip('.') or type(self).__name__
                print_log(f'{name}: region tokens learned on region grid {grid} mapped to this '
                          f'region grid {self.region_grid_size}', logger='current')
            state_dict[grid_key] = self.region_grid.clone()
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys,
                                      unexpected_keys, error_msgs)
