"""Tube masking of video tokens (VideoMAE / HiCMAE, video encoder ratio 0.9)."""

from typing import Optional, Sequence, Union

import torch

from holaframe.registry import MODELS

from .base_masker import BaseMasker, random_subset_mask


@MODELS.register_module()
class TubeMasker(BaseMasker):
    """Mask the same ``int(mask_ratio * h * w)`` spatial patches in every temporal slot.

    HiCMAE's ``TubeMaskingGenerator``: per sample one random spatial mask is drawn and
    repeated over the ``t`` temporal slots, so a masked patch is hidden for the whole clip
    ("tube") and cannot be copied from a neighbouring frame. Token index =
    ``t_idx * (h * w) + row * w + col``.

    Args:
        mask_ratio (float): Fraction of spatial patches to mask per temporal slot. The paper
            uses 0.9.
    """

    def num_masked(self, grid_size: Sequence[int]) -> int:
        """``t * int(mask_ratio * h * w)``."""
        t, h, w = self._check_grid(grid_size, ndim=3)
        return t * int(self.mask_ratio * h * w)

    def forward(self,
                batch_size: int,
                grid_size: Sequence[int],
                device: Union[str, torch.device, None] = None,
                encoder_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Draw tube masks.

        Args:
            batch_size (int): Number of samples B.
            grid_size (Sequence[int]): Video token grid ``(t, h, w)``.
            device (str | torch.device, optional): Device of the mask.
            encoder_mask (torch.Tensor, optional): Accepted for a uniform decoder-masker call
                and not used: this pattern does not depend on the encoder mask.

        Returns:
            torch.Tensor: Bool mask ``(B, t * h * w)``, ``True`` = masked.
        """
        t, h, w = self._check_grid(grid_size, ndim=3)
        spatial = random_subset_mask(batch_size, h * w, int(self.mask_ratio * h * w), device)
        return spatial[:, None, :].expand(batch_size, t, h * w).reshape(batch_size, t * h * w)
