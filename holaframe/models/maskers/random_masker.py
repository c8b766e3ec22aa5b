"""Random token masking (audio encoder 0.8 and audio decoder 0.5 in AV-MAE)."""

from typing import Optional, Sequence, Union

import torch

from holaframe.registry import MODELS

from .base_masker import BaseMasker, grid_numel, random_subset_mask


@MODELS.register_module()
class RandomMasker(BaseMasker):
    """Mask exactly ``int(mask_ratio * N)`` tokens per sample, chosen uniformly at random.

    HiCMAE's ``RandomMaskingGenerator2D`` rule (floor); the grid shape only fixes ``N``. As a
    decoder masker (Sec. 3.1.1: "the audio decoder retains its random masking strategy") it can
    draw *stratified* masks: given the encoder mask, the kept set is drawn so that exactly
    ``N_enc - int(mask_ratio * N_enc)`` encoder-masked positions are kept (``N_enc`` = number
    of encoder-masked tokens), and the encoder-visible positions get the same treatment. Every
    sample then decodes the same number of positions of ``M_de ∩ M_en`` (Eq. (5)-(6)), which a
    batched decoder needs, and the overall ratio stays ``mask_ratio`` up to rounding.

    Args:
        mask_ratio (float): Fraction of tokens to mask, in ``[0, 1)``.
    """

    def num_masked(self, grid_size: Union[int, Sequence[int]]) -> int:
        """``int(mask_ratio * N)``."""
        return int(self.mask_ratio * grid_numel(self._check_grid(grid_size)))

    def forward(self,
                batch_size: int,
                grid_size: Union[int, Sequence[int]],
                device: Union[str, torch.device, None] = None,
                encoder_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Draw masks.

        Args:
            batch_size (int): Number of samples B.
            grid_size (int | Sequence[int]): Token grid (only its size matters).
            device (str | torch.device, optional): Device of the mask.
            encoder_mask (torch.Tensor, optional): ``(B, N)`` bool encoder mask with the same
                count of ``True`` in every row; if given, the draw is stratified (see above).

        Returns:
            torch.Tensor: Bool mask ``(B, N)``, ``True`` = masked.
        """
        num_tokens = grid_numel(self._check_grid(grid_size))
        if encoder_mask is None:
            return random_subset_mask(batch_size, num_tokens, self.num_masked(num_tokens), device)
        if encoder_mask.shape != (batch_size, num_tokens):
            raise ValueError(
                f'{self._file()}: encoder_mask must have shape {(batch_size, num_tokens)}, got '
                f'{tuple(encoder_mask.shape)}.')
        counts = encoder_mask.sum(dim=1)
        if not bool((counts == counts[0]).all()):
            raise ValueError(
                f'{self._file()}: every sample needs the same number of encoder-masked tokens '
                f'for stratified decoder masking, got {counts.tolist()}.')
        encoder_mask = encoder_mask.to(device)
        n_enc = int(counts[0])
        mask = torch.zeros(batch_size, num_tokens, dtype=torch.bool, device=device)
        for part, size in ((encoder_mask, n_enc), (~encoder_mask, num_tokens - n_enc)):
            if size == 0:
                continue
            sub = random_subset_mask(batch_size, size, int(self.mask_ratio * size), device)
            mask[part] = sub.flatten()
        return mask
