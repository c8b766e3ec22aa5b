"""Fixed positional tables shared by encoders and decoders."""

from typing import Sequence

import numpy as np
import torch


def get_sinusoid_encoding_table(num_positions: int,
                                dim: int,
                                dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """HiCMAE's fixed 1-D sin-cos position table.

    ``angle(p, j) = p / 10000 ** (2 * floor(j / 2) / dim)``; even channels take the sine and odd
    channels the cosine (interleaved, not two halves). ``p`` is the flattened token index. The
    table is computed in float64 (as HiCMAE does with numpy) and only then cast to ``dtype``;
    computing it in float32 moves HiCMAE outputs by up to ~5e-6.

    Args:
        num_positions (int): Number of tokens N.
        dim (int): Channel width D.
        dtype (torch.dtype): Output dtype. Defaults to float32.

    Returns:
        torch.Tensor: Table of shape ``(1, N, D)``.
    """
    if num_positions <= 0 or dim <= 0:
        raise ValueError(
            f'holaframe/models/layers/pos_embed.py: num_positions ({num_positions}) and dim '
            f'({dim}) must be positive.')
    position = np.arange(num_positions, dtype=np.float64)[:, None]
    channel = np.arange(dim)
    table = position / np.power(10000, 2 * (channel // 2) / dim)[None, :]
    table[:, 0::2] = np.sin(table[:, 0::2])
    table[:, 1::2] = np.cos(table[:, 1::2])
    return torch.from_numpy(table).to(dtype).unsqueeze(0)


def axis_weights(source: int, target: int) -> np.ndarray:
    """``(target, source)`` linear-interpolation weights along one grid axis.

    Target index ``i`` sits at source coordinate ``i * (source - 1) / (target - 1)`` (first and
    last tokens map onto the first and last source tokens); an axis of one target token sits at
    the centre of the source axis, ``(source - 1) / 2``.
    """
    if target == 1:
        coords = np.array([(source - 1) / 2.0])
    else:
        coords = np.arange(target, dtype=np.float64) * (source - 1) / (target - 1)
    lower = np.clip(np.floor(coords).astype(np.int64), 0, source - 1)
    upper = np.clip(lower + 1, 0, source - 1)
    frac = coords - lower
    weights = np.zeros((target, source), dtype=np.float64)
    rows = np.arange(target)
    np.add.at(weights, (rows, lower), 1.0 - frac)
    np.add.at(weights, (rows, upper), frac)
    return weights


def map_sinusoid_table(source_grid: Sequence[int],
                       target_grid: Sequence[int],
                       dim: int,
                       dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Positions of a ``target_grid`` of tokens on the table learned for ``source_grid``.

    The table of :func:`get_sinusoid_encoding_table` is indexed by the flattened token index,
    so the same index names a different place when the grid changes (pre-training at 160 px =
    10 x 10 patches, fine-tuning at 224 px = 14 x 14). Here every target token instead gets the
    position it would have had on the source grid: its coordinate along each axis is mapped onto
    the source axis (corners onto corners, see :func:`axis_weights`) and the source table,
    viewed as ``(*source_grid, dim)``, is interpolated linearly along each axis. A target token
    that lands on a source token gets exactly that token's vector.

    Evaluating the 1-D table at a fractional *flattened* index instead would be wrong: half a
    row down, ``p = (r + 0.5) * w + c``, is the index of column ``c + w / 2`` of row ``r``.

    Grids of different rank are padded with trailing axes of size one, e.g. an MFCC grid
    ``(T,)`` against an fbank grid ``(T, F)``: every segment takes the mean of the two centre
    frequency rows at its time.

    Args:
        source_grid (Sequence[int]): Grid the table was learned on, e.g. ``(8, 10, 10)``.
        target_grid (Sequence[int]): Grid of the tokens to place, e.g. ``(8, 14, 14)``.
        dim (int): Channel width.
        dtype (torch.dtype): Output dtype (computed in float64). Defaults to float32.

    Returns:
        torch.Tensor: ``(1, prod(target_grid), dim)``; equal to
        ``get_sinusoid_encoding_table(prod(target_grid), dim)`` when the grids are equal.
    """
    source = tuple(int(g) for g in source_grid)
    target = tuple(int(g) for g in target_grid)
    if not source or not target or min(source + target) <= 0:
        raise ValueError(f'holaframe/models/layers/pos_embed.py: grids must be non-empty and '
                         f'positive, got source {source} and target {target}.')
    if source == target:
        return get_sinusoid_encoding_table(int(np.prod(source)), dim, dtype)
    table = get_sinusoid_encoding_table(int(np.prod(source)), dim, torch.float64)[0].numpy()
    return torch.from_numpy(resample_grid_table(table, source, target)).to(dtype).unsqueeze(0)


def resample_grid_table(table: np.ndarray, source_grid: Sequence[int],
                        target_grid: Sequence[int]) -> np.ndarray:
    """Rows of a table laid out on ``source_grid``, resampled onto ``target_grid``.

    The table ``(prod(source_grid), C)`` is viewed as ``(*source_grid, C)`` and interpolated
    linearly along each axis with :func:`axis_weights` (corners onto corners, an axis of one
    target row at the source centre); grids of different rank are padded with trailing axes of
    size one. Used for position tables and for per-region tokens.

    Args:
        table (np.ndarray): ``(prod(source_grid), C)``.
        source_grid (Sequence[int]): Grid of the rows of ``table``.
        target_grid (Sequence[int]): Grid wanted.

    Returns:
        np.ndarray: ``(prod(target_grid), C)`` in float64.
    """
    source = tuple(int(g) for g in source_grid)
    target = tuple(int(g) for g in target_grid)
    ndim = max(len(source), len(target))
    source_padded = source + (1, ) * (ndim - len(source))
    target_padded = target + (1, ) * (ndim - len(target))
    dim = table.shape[-1]
    grid = np.asarray(table, dtype=np.float64).reshape(source_padded + (dim, ))
    for axis, (s, t) in enumerate(zip(source_padded, target_padded)):
        grid = np.moveaxis(np.tensordot(axis_weights(s, t), grid, axes=([1], [axis])), 0, axis)
    return grid.reshape(-1, dim)
