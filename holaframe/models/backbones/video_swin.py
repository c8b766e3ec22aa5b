"""Video Swin Transformer (Swin-T) as a video deepfake baseline."""

from functools import reduce
from operator import mul
from typing import Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from holaframe.models.layers import DropPath, Mlp
from holaframe.registry import MODELS

from .utils import as_video

Size3 = Tuple[int, int, int]


def _window_partition(x: torch.Tensor, w: Size3) -> torch.Tensor:
    """``(B, D, H, W, C)`` -> ``(B * nW, w0 * w1 * w2, C)``."""
    b, d, h, wd, c = x.shape
    x = x.view(b, d // w[0], w[0], h // w[1], w[1], wd // w[2], w[2], c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).reshape(-1, reduce(mul, w), c)


def _window_reverse(win: torch.Tensor, w: Size3, b: int, d: int, h: int, wd: int) -> torch.Tensor:
    """Inverse of :func:`_window_partition`."""
    x = win.view(b, d // w[0], h // w[1], wd // w[2], w[0], w[1], w[2], -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).reshape(b, d, h, wd, -1)


class _WindowAttention3D(nn.Module):
    """Multi-head self-attention inside a 3-D window with a relative position bias.

    The bias table covers every offset of the configured (largest) window; a smaller
    effective window (a stage whose input is smaller than the window) reads its offsets from
    the same table.
    """

    def __init__(self, dim: int, window: Size3, num_heads: int) -> None:
        super().__init__()
        self.window, self.num_heads = window, num_heads
        self.scale = (dim // num_heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(torch.zeros(
            (2 * window[0] - 1) * (2 * window[1] - 1) * (2 * window[2] - 1), num_heads))
        nn.init.trunc_normal_(self.relative_position_bias_table, std=.02)
        self.qkv = nn.Linear(dim, dim * 3)
        self.proj = nn.Linear(dim, dim)

    def _bias(self, w: Size3) -> torch.Tensor:
        coords = torch.stack(torch.meshgrid(*[torch.arange(s) for s in w], indexing='ij'))
        coords = coords.flatten(1)
        rel = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)
        rel = rel + torch.tensor([s - 1 for s in self.window])
        m1, m2 = 2 * self.window[1] - 1, 2 * self.window[2] - 1
        index = rel[..., 0] * m1 * m2 + rel[..., 1] * m2 + rel[..., 2]
        index = index.to(self.relative_position_bias_table.device)
        return self.relative_position_bias_table[index].permute(2, 0, 1)  # (heads, N, N)

    def forward(self, x: torch.Tensor, w: Size3, mask: torch.Tensor = None) -> torch.Tensor:
        bw, n, c = x.shape
        qkv = self.qkv(x).reshape(bw, n, 3, self.num_heads, c // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = (q * self.scale) @ k.transpose(-2, -1) + self._bias(w).unsqueeze(0)
        if mask is not None:  # (nW, N, N) of 0 / -100
            nw = mask.shape[0]
            attn = attn.view(bw // nw, nw, self.num_heads, n, n) + mask[None, :, None]
            attn = attn.view(-1, self.num_heads, n, n)
        x = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(bw, n, c)
        return self.proj(x)


class _SwinBlock3D(nn.Module):
    """``x += attn(norm1(x))`` over (shifted) 3-D windows, ``x += mlp(norm2(x))``."""

    def __init__(self, dim: int, num_heads: int, window: Size3, shift: bool, mlp_ratio: float,
                 drop_path: float) -> None:
        super().__init__()
        self.window, self.shift = window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = _WindowAttention3D(dim, window, num_heads)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, d, h, wd, c = x.shape
        w = tuple(min(s, ws) for s, ws in zip((d, h, wd), self.window))
        shift = tuple(0 if s <= ws else ws // 2 for s, ws in zip((d, h, wd), self.window)) \
            if self.shift else (0, 0, 0)
        y = self.norm1(x)
        pads = [(-s) % ws for s, ws in zip((d, h, wd), w)]
        y = F.pad(y, (0, 0, 0, pads[2], 0, pads[1], 0, pads[0]))
        dp, hp, wp = d + pads[0], h + pads[1], wd + pads[2]
        mask = None
        if any(shift):
            y = torch.roll(y, shifts=tuple(-s for s in shift), dims=(1, 2, 3))
            mask = _shift_mask((dp, hp, wp), w, shift, x.device)
        y = _window_partition(y, w)
        y = self.attn(y, w, mask)
        y = _window_reverse(y, w, b, dp, hp, wp)
        if any(shift):
            y = torch.roll(y, shifts=shift, dims=(1, 2, 3))
        y = y[:, :d, :h, :wd].contiguous()
        x = x + self.drop_path(y)
        return x + self.drop_path(self.mlp(self.norm2(x)))


def _shift_mask(size: Size3, w: Size3, shift: Size3, device: torch.device) -> torch.Tensor:
    """Attention mask of the shifted windows: -100 between tokens from different regions."""
    img = torch.zeros((1, *size, 1), device=device)
    cnt = 0
    for sd in (slice(-w[0]), slice(-w[0], -shift[0]), slice(-shift[0], None)):
        for sh in (slice(-w[1]), slice(-w[1], -shift[1]), slice(-shift[1], None)):
            for sw in (slice(-w[2]), slice(-w[2], -shift[2]), slice(-shift[2], None)):
                img[:, sd, sh, sw, :] = cnt
                cnt += 1
    win = _window_partition(img, w).squeeze(-1)
    mask = win.unsqueeze(1) - win.unsqueeze(2)
    return mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)


class _PatchMerging(nn.Module):
    """2x2 spatial neighbours concatenated (4C), LayerNorm, linear to 2C."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(4 * dim)
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[2], x.shape[3]
        x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat([x[:, :, 0::2, 0::2], x[:, :, 1::2, 0::2], x[:, :, 0::2, 1::2],
                       x[:, :, 1::2, 1::2]], dim=-1)
        return self.reduction(self.norm(x))


@MODELS.register_module()
class VideoSwinTransformer(nn.Module):
    """Video Swin Transformer (Liu et al., "Video Swin Transformer", CVPR 2022), Swin-T.

    3-D patch embedding (2 x 4 x 4 patches, C = 96, LayerNorm), four stages of Swin blocks
    (depths 2, 2, 6, 2; heads 3, 6, 12, 24) whose attention runs inside 8 x 7 x 7 windows,
    shifted by half a window in every second block (Sec. 3.2, with the cyclic-shift mask and a
    3-D relative position bias), 2x2 spatial patch merging between stages, a final LayerNorm
    and global average pooling to the 768-d clip feature.

    Standard size: Swin-T, 28.2 M parameters in the paper's Table 1 (with the 400-class
    Kinetics head); the tests count this network plus a 400-way linear layer against it.
    Standard input: 32 frames at 224 x 224 (stride 2).

    Args:
        in_channels (int): Input planes. Defaults to 3.
        patch_size (Sequence[int]): Patch (T, H, W). Defaults to (2, 4, 4).
        embed_dim (int): C. Defaults to 96.
        depths (Sequence[int]): Blocks per stage. Defaults to (2, 2, 6, 2).
        num_heads (Sequence[int]): Heads per stage. Defaults to (3, 6, 12, 24).
        window_size (Sequence[int]): Window (T, H, W). Defaults to (8, 7, 7).
        mlp_ratio (float): MLP expansion. Defaults to 4.
        drop_path_rate (float): Stochastic depth at the last block. Defaults to 0.1.
    """

    def __init__(self, in_channels: int = 3, patch_size: Sequence[int] = (2, 4, 4),
                 embed_dim: int = 96, depths: Sequence[int] = (2, 2, 6, 2),
                 num_heads: Sequence[int] = (3, 6, 12, 24),
                 window_size: Sequence[int] = (8, 7, 7), mlp_ratio: float = 4.,
                 drop_path_rate: float = 0.1) -> None:
        super().__init__()
        if len(depths) != len(num_heads):
            raise ValueError('video_swin.py: depths and num_heads must have the same length')
        self.in_channels = in_channels
        self.patch_embed = nn.Conv3d(in_channels, embed_dim, tuple(patch_size),
                                     stride=tuple(patch_size))
        self.patch_norm = nn.LayerNorm(embed_dim)
        rates = torch.linspace(0, drop_path_rate, sum(depths)).tolist()
        self.stages, self.merges = nn.ModuleList(), nn.ModuleList()
        dim, k = embed_dim, 0
        for i, (depth, heads) in enumerate(zip(depths, num_heads)):
            self.stages.append(nn.Sequential(*[
                _SwinBlock3D(dim, heads, tuple(window_size), j % 2 == 1, mlp_ratio, rates[k + j])
                for j in range(depth)]))
            k += depth
            if i < len(depths) - 1:
                self.merges.append(_PatchMerging(dim))
                dim *= 2
        self.norm = nn.LayerNorm(dim)
        self.out_channels = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled clip features.

        Args:
            x (torch.Tensor): ``(B, C, T, H, W)``.

        Returns:
            torch.Tensor: ``(B, out_channels)``.
        """
        x = as_video(x, 'video_swin.py', self.in_channels)
        p = self.patch_embed.kernel_size
        pads = [(-s) % q for s, q in zip(x.shape[2:], p)]
        x = F.pad(x, (0, pads[2], 0, pads[1], 0, pads[0]))
        x = self.patch_norm(self.patch_embed(x).permute(0, 2, 3, 4, 1))  # (B, D, H, W, C)
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i < len(self.merges):
                x = self.merges[i](x)
        return self.norm(x).mean(dim=(1, 2, 3))
