"""PANNs CNN14 as an audio deepfake baseline."""

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from holaframe.registry import MODELS

from .utils import as_spectrogram


class _ConvBlock(nn.Module):
    """Two 3x3 conv-BN-ReLU layers, then average pooling."""

    def __init__(self, cin: int, cout: int, pool: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
            nn.ReLU(inplace=True))
        self.pool = pool

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.body(x)
        return F.avg_pool2d(x, self.pool) if self.pool > 1 else x


@MODELS.register_module()
class CNN14(nn.Module):
    """CNN14 of PANNs (Kong et al., "PANNs: Large-Scale Pretrained Audio Neural Networks for
    Audio Pattern Recognition", IEEE/ACM TASLP 2020).

    Batch norm over the mel bins of the log-mel input, six conv blocks (64, 128, 256, 512,
    1024, 2048 channels; two 3x3 conv-BN-ReLU each, 2x2 average pooling after the first five,
    dropout 0.2 after each), mean over frequency, max + mean over time, dropout 0.5, and the
    2048-d ReLU embedding layer ``fc1`` (Table I of the paper). The classifier's head replaces
    the AudioSet output layer.

    Standard size: 64 mel bins. The paper's Table II gives 80.753 M parameters with the
    527-class AudioSet layer; the tests count this network plus a 527-way linear layer against
    it (the log-mel front end is a fixed transform in holaframe's pipeline, not parameters).

    Args:
        in_channels (int): Mel bins. Defaults to 64.
        channels (Sequence[int]): Conv block widths. Defaults to (64, ..., 2048).
        embed_dim (int): Width of ``fc1``. Defaults to the last block's width.
        dropout (float): Dropout after the conv blocks. Defaults to 0.2.
    """

    def __init__(self, in_channels: int = 64,
                 channels: Sequence[int] = (64, 128, 256, 512, 1024, 2048),
                 embed_dim: int = None, dropout: float = 0.2) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.bn0 = nn.BatchNorm2d(in_channels)
        cin, blocks = 1, []
        for i, c in enumerate(channels):
            blocks.append(_ConvBlock(cin, c, 2 if i < len(channels) - 1 else 1))
            cin = c
        self.blocks = nn.ModuleList(blocks)
        self.dropout = dropout
        embed_dim = embed_dim or cin
        self.fc1 = nn.Linear(cin, embed_dim)
        self.out_channels = embed_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed a batch of log-mel spectrograms.

        Args:
            x (torch.Tensor): ``(B, 1, T, F)`` or ``(B, T, F)``.

        Returns:
            torch.Tensor: Embeddings ``(B, embed_dim)``.
        """
        x = as_spectrogram(x, 'cnn14.py')
        if x.shape[-1] != self.in_channels:
            raise ValueError(f'cnn14.py: expected {self.in_channels} mel bins, got '
                             f'{x.shape[-1]}')
        x = self.bn0(x.transpose(1, 2).unsqueeze(-1)).squeeze(-1).transpose(1, 2)
        x = x.unsqueeze(1)  # (B, 1, T, F)
        for block in self.blocks:
            x = F.dropout(block(x), self.dropout, self.training)
        x = x.mean(dim=3)  # over frequency
        x = x.max(dim=2).values + x.mean(dim=2)  # over time
        x = F.dropout(x, 0.5, self.training)
        return F.relu(self.fc1(x))
