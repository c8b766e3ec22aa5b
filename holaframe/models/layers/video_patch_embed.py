"""Tubelet ("cube") embedding of video clips."""

from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import nn

from holaframe.registry import MODELS


def _pair(x: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(x, int):
        return (x, x)
    x = tuple(int(v) for v in x)
    if len(x) != 2:
        raise ValueError(f'holaframe/models/layers: expected an int or a pair, got {x}.')
    return x


@MODELS.register_module()
class VideoPatchEmbed(nn.Module):
    """Cube embedding: ``Conv3d(in_channels -> embed_dim, kernel = stride = (t, p, p))``.

    Tokens are flattened time slowest, then patch row, then patch column
    (index ``t * h * w + row * w + col``), as in HiCMAE. State-dict keys: ``proj.weight``
    ``(C, in_channels, t, p, p)``, ``proj.bias``.

    Args:
        img_size (int | tuple): Frame size (H, W). Defaults to 224.
        patch_size (int | tuple): Spatial patch size. Defaults to 16.
        in_channels (int): Input channels. Defaults to 3.
        embed_dim (int): Output width. Defaults to 512.
        num_frames (int): Frames per clip T. Defaults to 16.
        tubelet_size (int): Frames per tubelet. Defaults to 2.
    """

    def __init__(self,
                 img_size: Union[int, Sequence[int]] = 224,
                 patch_size: Union[int, Sequence[int]] = 16,
                 in_channels: int = 3,
                 embed_dim: int = 512,
                 num_frames: int = 16,
                 tubelet_size: int = 2) -> None:
        super().__init__()
        self.img_size = _pair(img_size)
        self.patch_size = _pair(patch_size)
        self.tubelet_size = int(tubelet_size)
        self.num_frames = int(num_frames)
        self.in_channels = in_channels
        if (self.num_frames % self.tubelet_size or self.img_size[0] % self.patch_size[0]
                or self.img_size[1] % self.patch_size[1]):
            raise ValueError(
                'holaframe/models/layers/video_patch_embed.py: num_frames '
                f'{self.num_frames} / img_size {self.img_size} must be divisible by '
                f'tubelet_size {self.tubelet_size} / patch_size {self.patch_size}.')
        self.grid_size = (self.num_frames // self.tubelet_size,
                          self.img_size[0] // self.patch_size[0],
                          self.img_size[1] // self.patch_size[1])
        self.num_patches = self.grid_size[0] * self.grid_size[1] * self.grid_size[2]
        kernel = (self.tubelet_size, self.patch_size[0], self.patch_size[1])
        self.proj = nn.Conv3d(in_channels, embed_dim, kernel_size=kernel, stride=kernel)

    def forward(self, x: torch.Tensor, keep: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Embed ``(B, in_channels, T, H, W)`` into ``(B, num_patches, embed_dim)``.

        With ``keep`` (``(B, num_patches)`` bool, the same number of ``True`` per row) only the
        kept tubelets are cut out and embedded: ``(B, n_keep, embed_dim)`` in token order. The
        convolution has kernel = stride, so this equals ``forward(x)[keep]`` at a fraction of
        the cost when most tokens are masked (pre-training keeps 10%).
        """
        expected = (self.in_channels, self.num_frames) + self.img_size
        if x.ndim != 5 or tuple(x.shape[1:]) != expected:
            raise ValueError(
                'holaframe/models/layers/video_patch_embed.py: expected video of shape '
                f'(B, {", ".join(map(str, expected))}), got {tuple(x.shape)}.')
        if keep is None:
            return self.proj(x).flatten(2).transpose(1, 2)
        B = x.shape[0]
        t, h, w = self.grid_size
        (kt, kh, kw) = self.proj.kernel_size
        # (B, t, h, w, C, kt, kh, kw) view: one row per token in the conv weight's layout.
        cubes = x.reshape(B, self.in_channels, t, kt, h, kh, w, kw).permute(0, 2, 4, 6, 1, 3, 5, 7)
        picked = cubes[keep.reshape(B, t, h, w)].flatten(1)  # (B * n_keep, C * kt * kh * kw)
        out = F.linear(picked, self.proj.weight.flatten(1), self.proj.bias)
        return out.reshape(B, -1, out.shape[-1])
