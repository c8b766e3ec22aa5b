"""TimeSformer (divided space-time attention) as a video deepfake baseline."""

import torch
import torch.nn as nn

from holaframe.models.layers import Attention, DropPath, Mlp
from holaframe.registry import MODELS

from .utils import as_video


class _DividedSTBlock(nn.Module):
    """Temporal attention (each patch position across frames, then ``temporal_fc``), then
    spatial attention (the class token and the patches of one frame), then the MLP; each a
    pre-norm residual branch (Fig. 1 and Eq. 7-8 of the paper)."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float, drop_path: float) -> None:
        super().__init__()
        self.temporal_norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.temporal_attn = Attention(dim, num_heads)
        self.temporal_fc = nn.Linear(dim, dim)
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.drop_path = DropPath(drop_path)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor, t: int) -> torch.Tensor:
        b, n1, c = x.shape
        cls, xs = x[:, :1], x[:, 1:]
        s = (n1 - 1) // t
        # temporal: (B * S, T, C), patches ordered frame-major (t, s)
        xt = xs.reshape(b, t, s, c).transpose(1, 2).reshape(b * s, t, c)
        xt = self.temporal_fc(self.temporal_attn(self.temporal_norm1(xt)))
        xs = xs + self.drop_path(xt.reshape(b, s, t, c).transpose(1, 2).reshape(b, t * s, c))
        # spatial: (B * T, 1 + S, C) with the class token copied into every frame
        xsp = torch.cat([cls.expand(b, t, c).reshape(b * t, 1, c),
                         xs.reshape(b * t, s, c)], dim=1)
        ysp = self.attn(self.norm1(xsp))
        cls = cls + self.drop_path(ysp[:, 0].reshape(b, t, c).mean(dim=1, keepdim=True))
        xs = xs + self.drop_path(ysp[:, 1:].reshape(b, t * s, c))
        x = torch.cat([cls, xs], dim=1)
        return x + self.drop_path(self.mlp(self.norm2(x)))


@MODELS.register_module()
class TimeSformer(nn.Module):
    """TimeSformer (Bertasius et al., "Is Space-Time Attention All You Need for Video
    Understanding?", ICML 2021) with divided space-time attention.

    ViT-B/16 on every frame (16 x 16 patches, width 768, 12 blocks, 12 heads, MLP 3072), a
    class token, learned spatial and temporal position embeddings, blocks that apply temporal
    attention, then spatial attention, then the MLP (Sec. 3, "divided space-time attention"),
    a final LayerNorm; the class token is the 768-d clip feature. The attention layers are
    holaframe's shared :class:`~holaframe.models.layers.Attention` (no key bias: 768 fewer
    parameters per attention layer than the reference code, 18 K in all).

    Standard size: 8 frames at 224 x 224, 121.4 M parameters in the paper's Table 1 (with the
    400-class Kinetics head); the tests count this network plus a 400-way linear layer against
    it.

    Args:
        in_channels (int): Input planes. Defaults to 3.
        img_size (int): Frame side. Defaults to 224.
        patch_size (int): Patch side. Defaults to 16.
        num_frames (int): Frames per clip. Defaults to 8.
        embed_dim (int): Width. Defaults to 768.
        depth (int): Blocks. Defaults to 12.
        num_heads (int): Heads. Defaults to 12.
        mlp_ratio (float): MLP expansion. Defaults to 4.
        drop_path_rate (float): Stochastic depth at the last block. Defaults to 0.1.
    """

    def __init__(self, in_channels: int = 3, img_size: int = 224, patch_size: int = 16,
                 num_frames: int = 8, embed_dim: int = 768, depth: int = 12,
                 num_heads: int = 12, mlp_ratio: float = 4., drop_path_rate: float = 0.1
                 ) -> None:
        super().__init__()
        if img_size % patch_size:
            raise ValueError(f'timesformer.py: img_size {img_size} is not a multiple of '
                             f'patch_size {patch_size}')
        self.in_channels, self.num_frames, self.img_size = in_channels, num_frames, img_size
        self.patch_embed = nn.Conv2d(in_channels, embed_dim, patch_size, stride=patch_size)
        num_patches = (img_size // patch_size) ** 2
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim))
        self.time_embed = nn.Parameter(torch.zeros(1, num_frames, embed_dim))
        for p in (self.cls_token, self.pos_embed, self.time_embed):
            nn.init.trunc_normal_(p, std=.02)
        rates = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = nn.ModuleList(
            _DividedSTBlock(embed_dim, num_heads, mlp_ratio, r) for r in rates)
        for block in self.blocks:  # temporal branch starts as the identity (reference init)
            nn.init.zeros_(block.temporal_fc.weight)
            nn.init.zeros_(block.temporal_fc.bias)
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.out_channels = embed_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class-token features of a clip batch.

        Args:
            x (torch.Tensor): ``(B, C, num_frames, img_size, img_size)``.

        Returns:
            torch.Tensor: ``(B, embed_dim)``.
        """
        x = as_video(x, 'timesformer.py', self.in_channels)
        b, c, t, h, w = x.shape
        if (t, h, w) != (self.num_frames, self.img_size, self.img_size):
            raise ValueError(f'timesformer.py: the position embeddings are sized for '
                             f'{self.num_frames} frames at {self.img_size} px, got '
                             f'{(t, h, w)}; set num_frames and img_size to the pipeline\'s')
        x = self.patch_embed(x.transpose(1, 2).reshape(b * t, c, h, w))  # (B*T, C, h, w)
        x = x.flatten(2).transpose(1, 2)  # (B*T, S, C)
        s, dim = x.shape[1], x.shape[2]
        x = torch.cat([self.cls_token.expand(b * t, 1, dim), x], dim=1) + self.pos_embed
        cls = x[:b, :1]  # the class token (with its position), once per clip
        x = x[:, 1:].reshape(b, t, s, dim) + self.time_embed[:, :, None]
        x = torch.cat([cls, x.reshape(b, t * s, dim)], dim=1)
        for block in self.blocks:
            x = block(x, t)
        return self.norm(x)[:, 0]
