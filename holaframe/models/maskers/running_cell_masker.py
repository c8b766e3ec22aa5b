"""Running cell masking for the video decoder (VideoMAE V2 / AVF-MAE++ dual masking)."""

from typing import Optional, Sequence, Union

import torch

from holaframe.registry import MODELS

from .base_masker import BaseMasker


@MODELS.register_module()
class RunningCellMasker(BaseMasker):
    """Periodically keep spatial blocks along time (Sec. 3.1.1, decoder mask of the video).

    The ``h x w`` patch grid is tiled with 2x2 cells. A cell's four positions (row-major
    ``k = 2 * (row % 2) + col % 2``) read a cyclic queue ``[1] * m + [0] * (4 - m)`` with
    ``m = 4 * mask_ratio`` masked positions: position ``k`` at temporal slot ``t`` is masked iff
    ``(k + offset + t) % 4 < m``. The pattern is the same in every cell of a slot and moves by
    one queue step per slot, so over any 4 consecutive slots every position is kept exactly
    ``4 - m`` times. ``offset`` is drawn per sample. With ``mask_ratio = 0.5`` every cell keeps
    2 of its 4 patches in every slot.

    Combined with tube encoder masking and ``t`` a multiple of 4, every sample decodes exactly
    ``(1 - mask_ratio) * t * n_masked_spatial`` encoder-masked tokens (Eq. (6)).

    Args:
        mask_ratio (float): Fraction of patches the decoder drops; ``4 * mask_ratio`` must be an
            integer in 1..3 (0.25, 0.5 or 0.75). The paper uses 0.5.
    """

    cell_size = 2

    def __init__(self, mask_ratio: float = 0.5) -> None:
        super().__init__(mask_ratio)
        cells = self.cell_size * self.cell_size
        num = self.mask_ratio * cells
        if abs(num - round(num)) > 1e-9 or not 0 < round(num) < cells:
            raise ValueError(
                f'{self._file()}: mask_ratio * 4 must be an integer in 1..3 for 2x2 cells, got '
                f'mask_ratio={mask_ratio}.')
        self.num_masked_per_cell = int(round(num))

    def num_masked(self, grid_size: Sequence[int]) -> int:
        """``mask_ratio * t * h * w`` (exact for even ``h`` and ``w``)."""
        t, h, w = self._check_even(grid_size)
        return t * (h * w // 4) * self.num_masked_per_cell

    def _check_even(self, grid_size: Sequence[int]):
        t, h, w = self._check_grid(grid_size, ndim=3)
        if h % self.cell_size or w % self.cell_size:
            raise ValueError(
                f'{self._file()}: the patch grid h x w = {h} x {w} must be divisible into 2x2 '
                'cells (even h and w) for exact running cell masking.')
        return t, h, w

    def forward(self,
                batch_size: int,
                grid_size: Sequence[int],
                device: Union[str, torch.device, None] = None,
                encoder_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Draw running cell masks.

        Args:
            batch_size (int): Number of samples B.
            grid_size (Sequence[int]): Video token grid ``(t, h, w)``.
            device (str | torch.device, optional): Device of the mask.
            encoder_mask (torch.Tensor, optional): Accepted for a uniform decoder-masker call
                and not used: this pattern does not depend on the encoder mask.

        Returns:
            torch.Tensor: Bool mask ``(B, t * h * w)``, ``True`` = masked.
        """
        t, h, w = self._check_even(grid_size)
        cells = self.cell_size * self.cell_size
        rows = torch.arange(h, device=device) % self.cell_size
        cols = torch.arange(w, device=device) % self.cell_size
        pos_in_cell = (rows[:, None] * self.cell_size + cols[None, :]).flatten()  # (h * w, )
        slots = torch.arange(t, device=device)
        offset = torch.randint(0, cells, (batch_size, ), device=device)
        phase = (pos_in_cell[None, None, :] + slots[None, :, None] + offset[:, None, None])
        mask = (phase % cells) < self.num_masked_per_cell  # (B, t, h * w)
        return mask.reshape(batch_size, t * h * w)
