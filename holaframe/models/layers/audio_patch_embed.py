"""Spectrogram patch embedding (HiCMAE fbank layout)."""

from typing import Sequence, Union

import torch
from torch import nn

from holaframe.registry import MODELS

from .video_patch_embed import _pair


@MODELS.register_module()
class AudioPatchEmbed(nn.Module):
    """``Conv2d(in_channels -> embed_dim, kernel = stride = p)`` over (time, freq).

    Tokens are flattened time-major (index ``t * F' + f``). State-dict keys: ``proj.weight``
    ``(C, in_channels, p, p)``, ``proj.bias``.

    Args:
        spec_size (int | tuple): Spectrogram size (time frames, mel bins). Defaults to (256, 128).
        patch_size (int | tuple): Patch size. Defaults to 16.
        in_channels (int): Input channels. Defaults to 1.
        embed_dim (int): Output width. Defaults to 512.
    """

    def __init__(self,
                 spec_size: Union[int, Sequence[int]] = (256, 128),
                 patch_size: Union[int, Sequence[int]] = 16,
                 in_channels: int = 1,
                 embed_dim: int = 512) -> None:
        super().__init__()
        self.spec_size = _pair(spec_size)
        self.patch_size = _pair(patch_size)
        self.in_channels = in_channels
        if self.spec_size[0] % self.patch_size[0] or self.spec_size[1] % self.patch_size[1]:
            raise ValueError(
                f'holaframe/models/layers/audio_patch_embed.py: spec_size {self.spec_size} must '
                f'be divisible by patch_size {self.patch_size}.')
        self.grid_size = (self.spec_size[0] // self.patch_size[0],
                          self.spec_size[1] // self.patch_size[1])
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.proj = nn.Conv2d(
            in_channels, embed_dim, kernel_size=self.patch_size, stride=self.patch_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed ``(B, in_channels, time, freq)`` (or ``(B, time, freq)`` when
        ``in_channels == 1``) into ``(B, num_patches, embed_dim)``."""
        if x.ndim == 3 and self.in_channels == 1:
            x = x.unsqueeze(1)
        expected = (self.in_channels, ) + self.spec_size
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                'holaframe/models/layers/audio_patch_embed.py: expected a spectrogram of shape '
                f'(B, {", ".join(map(str, expected))}), got {tuple(x.shape)}.')
        return self.proj(x).flatten(2).transpose(1, 2)
