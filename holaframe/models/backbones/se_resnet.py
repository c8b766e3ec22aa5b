"""SE-ResNet-50 on a spectrogram as an audio deepfake baseline."""

from typing import Sequence

import torch
import torch.nn as nn

from holaframe.registry import MODELS

from .utils import as_spectrogram


class _SEBottleneck(nn.Module):
    """ResNet bottleneck (1x1, 3x3 with the stride, 1x1 to ``planes * 4``) whose residual
    branch is rescaled by a squeeze-and-excitation gate before the identity is added."""

    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int, reduction: int) -> None:
        super().__init__()
        cout = planes * self.expansion
        self.body = nn.Sequential(
            nn.Conv2d(cin, planes, 1, bias=False), nn.BatchNorm2d(planes), nn.ReLU(inplace=True),
            nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(planes), nn.ReLU(inplace=True),
            nn.Conv2d(planes, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.se = nn.Sequential(nn.Linear(cout, cout // reduction), nn.ReLU(inplace=True),
                                nn.Linear(cout // reduction, cout), nn.Sigmoid())
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        y = y * self.se(y.mean(dim=(2, 3)))[:, :, None, None]  # squeeze, excite, scale
        idt = x if self.downsample is None else self.downsample(x)
        return torch.relu(y + idt)


@MODELS.register_module()
class SEResNet(nn.Module):
    """SE-ResNet-50 (Hu et al., "Squeeze-and-Excitation Networks", CVPR 2018) on a log-mel
    filterbank treated as a one-channel image: the "ResNet-SE" audio model.

    ResNet-50 layout (7x7 stride-2 stem, 3x3 max pool, stages of 3, 4, 6, 3 bottlenecks with
    64, 128, 256, 512 planes) with an SE block (global average pool, FC to C/r, ReLU, FC to C,
    sigmoid, channel-wise scale; reduction r = 16, Sec. 3 and Fig. 3) on every bottleneck's
    residual branch; global average pooling gives the 2048-d clip feature.

    Standard size: the paper's Table 2 gives SE-ResNet-50 about 28.1 M parameters (3-channel
    images, 1000-class classifier; Sec. 6.1 "~27.5 M ... vs ~25 M for ResNet-50" before the
    classifier's rounding); the tests count this network with ``in_channels=3`` plus a
    1000-way linear layer against 28.1 M, and pin the one-channel spectrogram version.

    Args:
        in_channels (int): Input planes (1 for a spectrogram). Defaults to 1.
        depths (Sequence[int]): Bottlenecks per stage. Defaults to (3, 4, 6, 3).
        stem_channels (int): Stem width. Defaults to 64.
        reduction (int): SE reduction ratio r. Defaults to 16.
    """

    def __init__(self, in_channels: int = 1, depths: Sequence[int] = (3, 4, 6, 3),
                 stem_channels: int = 64, reduction: int = 16) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, stem_channels, 7, stride=2, padding=3, bias=False),
            nn.BatchNorm2d(stem_channels), nn.ReLU(inplace=True),
            nn.MaxPool2d(3, stride=2, padding=1))
        blocks, cin = [], stem_channels
        for i, depth in enumerate(depths):
            planes = stem_channels * 2 ** i
            for j in range(depth):
                blocks.append(_SEBottleneck(cin, planes, 2 if (j == 0 and i > 0) else 1,
                                            reduction))
                cin = planes * _SEBottleneck.expansion
        self.blocks = nn.Sequential(*blocks)
        self.out_channels = cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features of a spectrogram (or image) batch.

        Args:
            x (torch.Tensor): ``(B, 1, T, F)`` / ``(B, T, F)`` features, or ``(B, C, H, W)``
                images when ``in_channels > 1``.

        Returns:
            torch.Tensor: ``(B, out_channels)``.
        """
        if self.in_channels == 1:
            x = as_spectrogram(x, 'se_resnet.py').unsqueeze(1)
        return self.blocks(self.stem(x)).mean(dim=(2, 3))
