"""Common interface of the token maskers."""

import math
from abc import ABCMeta, abstractmethod
from typing import Optional, Sequence, Tuple, Union

import torch
from torch import nn


class BaseMasker(nn.Module, metaclass=ABCMeta):
    """A masker draws boolean token masks for a whole batch at once.

    Convention (HiCMAE's): ``True`` = masked (removed before the encoder, or not decoded by the
    decoder), ``False`` = kept. Masks are flattened in the encoders' token order (time slowest)
    and created on the requested device with the global torch RNG, so ``randomness.seed`` of
    the runner makes them reproducible. Maskers hold no parameters.

    Args:
        mask_ratio (float): Fraction of tokens to mask, in ``[0, 1)``.
    """

    def __init__(self, mask_ratio: float) -> None:
        super().__init__()
        if not 0.0 <= float(mask_ratio) < 1.0:
            raise ValueError(
                f'{self._file()}: mask_ratio must be in [0, 1), got {mask_ratio}.')
        self.mask_ratio = float(mask_ratio)

    @classmethod
    def _file(cls) -> str:
        return f'holaframe/models/maskers ({cls.__name__})'

    def _check_grid(self, grid_size: Union[int, Sequence[int]], ndim: int = 0) -> Tuple[int, ...]:
        grid = (int(grid_size), ) if isinstance(grid_size, int) else tuple(
            int(g) for g in grid_size)
        if ndim and len(grid) != ndim:
            raise ValueError(
                f'{self._file()}: expects a {ndim}-D token grid, got grid_size={grid_size}.')
        if any(g <= 0 for g in grid):
            raise ValueError(f'{self._file()}: grid sizes must be positive, got {grid_size}.')
        return grid

    @abstractmethod
    def num_masked(self, grid_size: Union[int, Sequence[int]]) -> int:
        """Number of masked tokens per sample for ``grid_size`` (same for every sample)."""

    @abstractmethod
    def forward(self,
                batch_size: int,
                grid_size: Union[int, Sequence[int]],
                device: Union[str, torch.device, None] = None,
                encoder_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Draw masks.

        Args:
            batch_size (int): Number of samples B.
            grid_size (int | Sequence[int]): Token grid, e.g. ``(t, h, w)`` for video or
                ``(time, freq)`` for audio.
            device (str | torch.device, optional): Device of the returned mask.
            encoder_mask (torch.Tensor, optional): ``(B, N)`` encoder mask, passed when the
                masker is used on the decoder side (a masker may ignore it).

        Returns:
            torch.Tensor: Bool mask ``(B, prod(grid_size))``, ``True`` = masked.
        """

    def extra_repr(self) -> str:
        return f'mask_ratio={self.mask_ratio}'


def random_subset_mask(batch_size: int, num_tokens: int, num_masked: int,
                       device: Union[str, torch.device, None]) -> torch.Tensor:
    """``(B, N)`` bool masks with exactly ``num_masked`` uniformly chosen ``True`` per row."""
    noise = torch.rand(batch_size, num_tokens, device=device)
    ranks = noise.argsort(dim=1).argsort(dim=1)
    return ranks < num_masked


def grid_numel(grid: Sequence[int]) -> int:
    """Number of tokens of a grid."""
    return int(math.prod(grid))
