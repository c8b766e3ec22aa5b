"""Spectrogram patch embedding (HiCMAE fbank layout)."""

from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
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

    def forward(self, x: torch.Tensor, keep: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Embed ``(B, in_channels, time, freq)`` (or ``(B, time, freq)`` when
        ``in_channels == 1``) into ``(B, num_patches, embed_dim)``.

        With ``keep`` (``(B, num_patches)`` bool, the same number of ``True`` per row) only the
        kept patches are embedded: ``(B, n_keep, embed_dim)``, equal to ``forward(x)[keep]``.
        """
        if x.ndim == 3 and self.in_channels == 1:
            x = x.unsqueeze(1)
        expected = (self.in_channels, ) + self.spec_size
        if x.ndim != 4 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                'holaframe/models/layers/audio_patch_embed.py: expected a spectrogram of shape '
                f'(B, {", ".join(map(str, expected))}), got {tuple(x.shape)}.')
        if keep is None:
            return self.proj(x).flatten(2).transpose(1, 2)
        B = x.shape[0]
        t, f = self.grid_size
        pt, pf = self.patch_size
        # (B, t, f, C, pt, pf) view: one row per token in the conv weight's layout.
        cells = x.reshape(B, self.in_channels, t, pt, f, pf).permute(0, 2, 4, 1, 3, 5)
        picked = cells[keep.reshape(B, t, f)].flatten(1)
        out = F.linear(picked, self.proj.weight.flatten(1), self.proj.bias)
        return out.reshape(B, -1, out.shape[-1])
