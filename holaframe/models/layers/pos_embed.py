"""Fixed positional tables shared by encoders and decoders."""

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
