"""Token embedding of per-segment audio features (the paper's MFCC fine-tuning input)."""

import warnings
from typing import Optional

import torch
from torch import nn

from holaframe.registry import MODELS


@MODELS.register_module()
class MFCCTokenEmbed(nn.Module):
    """One token per time segment: ``Linear(num_coeffs -> embed_dim)`` applied to each segment.

    The paper's fine-tuning audio input is ``F_a`` of shape ``(T, F)``: T = 16 segments aligned
    with the video frames, F = 32 MFCC coefficients per segment (Sec. 3.2.1). Any per-segment
    feature of that layout works (e.g. per-frame log-mel ``(T, F)``). State-dict keys:
    ``proj.weight`` ``(C, num_coeffs)``, ``proj.bias``.

    A HiCMAE fbank checkpoint holds a 4-D ``patch_embed.proj.weight`` (Conv2d); it cannot be
    used here, so loading one drops the two fbank embedding tensors with a warning (they are then
    reported as missing keys and stay freshly initialised) instead of failing on a size mismatch.

    Args:
        num_segments (int): Number of segments T. Defaults to 16.
        num_coeffs (int): Features per segment F. Defaults to 32.
        embed_dim (int): Output width. Defaults to 512.
    """

    def __init__(self, num_segments: int = 16, num_coeffs: int = 32, embed_dim: int = 512) -> None:
        super().__init__()
        self.num_segments = int(num_segments)
        self.num_coeffs = int(num_coeffs)
        self.grid_size = (self.num_segments, )
        self.num_patches = self.num_segments
        self.proj = nn.Linear(self.num_coeffs, embed_dim)
        self._register_load_state_dict_pre_hook(self._drop_incompatible_embedding)

    def _drop_incompatible_embedding(self, state_dict, prefix, *args) -> None:
        weight = state_dict.get(prefix + 'proj.weight')
        if weight is not None and tuple(weight.shape) != tuple(self.proj.weight.shape):
            warnings.warn(
                f'holaframe/models/layers/mfcc_token_embed.py: checkpoint tensor '
                f'{prefix}proj.weight has shape {tuple(weight.shape)} (an fbank patch embedding?) '
                f'but the MFCC token embedding needs {tuple(self.proj.weight.shape)}; it is not '
                'loaded and the MFCC embedding keeps its initialisation.', stacklevel=2)
            state_dict.pop(prefix + 'proj.weight')
            state_dict.pop(prefix + 'proj.bias', None)

    def forward(self, x: torch.Tensor, keep: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Embed ``(B, num_segments, num_coeffs)`` into ``(B, num_segments, embed_dim)``.

        With ``keep`` (``(B, num_segments)`` bool, the same count per row) only the kept
        segments are embedded: ``(B, n_keep, embed_dim)``, equal to ``forward(x)[keep]``.
        """
        expected = (self.num_segments, self.num_coeffs)
        if x.ndim != 3 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                'holaframe/models/layers/mfcc_token_embed.py: expected MFCC segments of shape '
                f'(B, {expected[0]}, {expected[1]}), got {tuple(x.shape)}.')
        if keep is not None:
            x = x[keep].reshape(x.shape[0], -1, x.shape[-1])
        return self.proj(x)
