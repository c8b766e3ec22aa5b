"""ECAPA-TDNN speaker-embedding network as an audio deepfake baseline."""

from typing import Sequence

import torch
import torch.nn as nn

from holaframe.registry import MODELS

from .utils import as_spectrogram


class _ConvReluBn(nn.Module):
    """``Conv1D -> ReLU -> BN`` (the order of the ECAPA-TDNN paper, Fig. 2)."""

    def __init__(self, cin: int, cout: int, kernel: int = 1, dilation: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv1d(cin, cout, kernel, dilation=dilation,
                              padding=dilation * (kernel - 1) // 2)
        self.bn = nn.BatchNorm1d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.bn(torch.relu(self.conv(x)))


class _SERes2Block(nn.Module):
    """SE-Res2Block: 1x1 conv, Res2 dilated conv (``scale`` groups), 1x1 conv, SE, residual."""

    def __init__(self, channels: int, kernel: int, dilation: int, scale: int,
                 se_channels: int) -> None:
        super().__init__()
        if channels % scale:
            raise ValueError(f'ecapa_tdnn.py: channels {channels} not divisible by scale {scale}')
        width = channels // scale
        self.scale = scale
        self.conv1 = _ConvReluBn(channels, channels)
        self.res2 = nn.ModuleList(
            _ConvReluBn(width, width, kernel, dilation) for _ in range(scale - 1))
        self.conv2 = _ConvReluBn(channels, channels)
        self.se = nn.Sequential(nn.Conv1d(channels, se_channels, 1), nn.ReLU(inplace=True),
                                nn.Conv1d(se_channels, channels, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv1(x)
        parts = torch.chunk(y, self.scale, dim=1)
        outs, prev = [parts[0]], None
        for i, conv in enumerate(self.res2):
            prev = conv(parts[i + 1] if prev is None else parts[i + 1] + prev)
            outs.append(prev)
        y = self.conv2(torch.cat(outs, dim=1))
        y = y * self.se(y.mean(dim=2, keepdim=True))
        return x + y


@MODELS.register_module()
class ECAPATDNN(nn.Module):
    """ECAPA-TDNN (Desplanques et al., "ECAPA-TDNN: Emphasized Channel Attention, Propagation
    and Aggregation in TDNN Based Speaker Verification", Interspeech 2020).

    Conv1D (k=5) -> three SE-Res2Blocks (k=3, dilation 2, 3, 4, scale 8, SE bottleneck 128)
    -> multi-layer feature aggregation (the three block outputs concatenated, 1x1 conv to
    1536) -> channel- and context-dependent attentive statistics pooling (attention bottleneck
    128, global mean/std context) -> BN -> FC to the embedding (192) -> BN. The classifier's
    head reads the embedding.

    Standard size: ``channels=1024`` on 80 filterbank bins, 14.7 M parameters in the paper's
    Table 1 ("ECAPA-TDNN (C=1024)"); the count here (pinned in the tests) is the network up to
    the embedding, which is what that figure counts (the AAM-softmax speaker classifier is a
    training loss, not part of it).

    Args:
        in_channels (int): Filterbank bins F. Defaults to 80.
        channels (int): Width C of the SE-Res2Blocks. Defaults to 1024.
        dilations (Sequence[int]): Dilation of each SE-Res2Block. Defaults to (2, 3, 4).
        scale (int): Res2 scale. Defaults to 8.
        se_channels (int): SE bottleneck. Defaults to 128.
        mfa_channels (int): Output of the aggregation conv. Defaults to 1536.
        attention_channels (int): Attention bottleneck. Defaults to 128.
        embed_dim (int): Embedding width. Defaults to 192.
    """

    def __init__(self, in_channels: int = 80, channels: int = 1024,
                 dilations: Sequence[int] = (2, 3, 4), scale: int = 8, se_channels: int = 128,
                 mfa_channels: int = 1536, attention_channels: int = 128,
                 embed_dim: int = 192) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.stem = _ConvReluBn(in_channels, channels, kernel=5)
        self.blocks = nn.ModuleList(
            _SERes2Block(channels, 3, d, scale, se_channels) for d in dilations)
        self.mfa = _ConvReluBn(channels * len(dilations), mfa_channels)
        self.attention = nn.Sequential(
            nn.Conv1d(mfa_channels * 3, attention_channels, 1), nn.ReLU(inplace=True),
            nn.BatchNorm1d(attention_channels), nn.Tanh(),
            nn.Conv1d(attention_channels, mfa_channels, 1))
        self.pool_bn = nn.BatchNorm1d(mfa_channels * 2)
        self.fc = nn.Linear(mfa_channels * 2, embed_dim)
        self.embed_bn = nn.BatchNorm1d(embed_dim)
        self.out_channels = embed_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed a batch of filterbanks.

        Args:
            x (torch.Tensor): ``(B, 1, T, F)`` or ``(B, T, F)``.

        Returns:
            torch.Tensor: Embeddings ``(B, embed_dim)``.
        """
        x = as_spectrogram(x, 'ecapa_tdnn.py')
        if x.shape[-1] != self.in_channels:
            raise ValueError(f'ecapa_tdnn.py: expected {self.in_channels} bins, got '
                             f'{x.shape[-1]}')
        x = self.stem(x.transpose(1, 2))  # (B, C, T)
        outs = []
        for block in self.blocks:
            x = block(x)
            outs.append(x)
        h = self.mfa(torch.cat(outs, dim=1))  # (B, 1536, T)
        t = h.shape[-1]
        mean = h.mean(dim=2, keepdim=True)
        std = h.var(dim=2, keepdim=True, unbiased=False).clamp_min(1e-5).sqrt()
        ctx = torch.cat([h, mean.expand(-1, -1, t), std.expand(-1, -1, t)], dim=1)
        w = torch.softmax(self.attention(ctx), dim=2)
        mu = (h * w).sum(dim=2)
        sg = ((h * h * w).sum(dim=2) - mu * mu).clamp_min(1e-5).sqrt()
        return self.embed_bn(self.fc(self.pool_bn(torch.cat([mu, sg], dim=1))))
