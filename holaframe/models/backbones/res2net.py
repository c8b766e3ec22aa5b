"""Res2Net-50 on a spectrogram as an audio deepfake baseline."""

from typing import Sequence

import torch
import torch.nn as nn

from holaframe.registry import MODELS

from .utils import as_spectrogram


class _Bottle2neck(nn.Module):
    """Res2Net bottleneck: 1x1 conv to ``width * scale``, hierarchical 3x3 convs over the
    ``scale`` splits (each split adds the previous one's output), 1x1 conv to ``planes * 4``.
    The first block of a stage (``stage=True``) convolves every split on its own and average
    pools the last one, as in the reference design."""

    expansion = 4

    def __init__(self, cin: int, planes: int, stride: int, base_width: int, scale: int,
                 stage: bool) -> None:
        super().__init__()
        width = planes * base_width // 64
        self.width, self.scale, self.stage = width, scale, stage
        self.conv1 = nn.Conv2d(cin, width * scale, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width * scale)
        self.convs = nn.ModuleList(
            nn.Conv2d(width, width, 3, stride=stride, padding=1, bias=False)
            for _ in range(scale - 1))
        self.bns = nn.ModuleList(nn.BatchNorm2d(width) for _ in range(scale - 1))
        self.pool = nn.AvgPool2d(3, stride=stride, padding=1) if stage else None
        self.conv3 = nn.Conv2d(width * scale, planes * self.expansion, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or cin != planes * self.expansion:
            self.downsample = nn.Sequential(
                nn.Conv2d(cin, planes * self.expansion, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes * self.expansion))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.relu(self.bn1(self.conv1(x)))
        parts = torch.split(y, self.width, dim=1)
        outs, sp = [], None
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            sp = parts[i] if (i == 0 or self.stage) else sp + parts[i]
            sp = self.relu(bn(conv(sp)))
            outs.append(sp)
        outs.append(self.pool(parts[-1]) if self.stage else parts[-1])
        y = self.bn3(self.conv3(torch.cat(outs, dim=1)))
        idt = x if self.downsample is None else self.downsample(x)
        return self.relu(y + idt)


@MODELS.register_module()
class Res2Net(nn.Module):
    """Res2Net-50 (Gao et al., "Res2Net: A New Multi-scale Backbone Architecture", TPAMI 2019)
    on a log-mel filterbank treated as a one-channel image.

    ResNet-50 layout (7x7 stride-2 stem, 3x3 max pool, stages of 3, 4, 6, 3 bottlenecks with
    64, 128, 256, 512 planes) whose bottlenecks split the 3x3 conv into ``scale`` groups of
    ``planes * base_width / 64`` channels connected hierarchically (Sec. 3.1); global average
    pooling gives the 2048-d clip feature the classifier's head reads.

    Standard size: 26w x 4s. The paper's Table 2 gives 25.70 M parameters for Res2Net-50
    (3-channel images, 1000-class classifier); the tests count this network with
    ``in_channels=3`` plus a 1000-way linear layer against that figure, and pin the count of
    the one-channel spectrogram version the configs use.

    Args:
        in_channels (int): Input planes (1 for a spectrogram). Defaults to 1.
        depths (Sequence[int]): Bottlenecks per stage. Defaults to (3, 4, 6, 3).
        stem_channels (int): Stem width. Defaults to 64.
        base_width (int): Width w of a split at 64 planes. Defaults to 26.
        scale (int): Number of splits s. Defaults to 4.
    """

    def __init__(self, in_channels: int = 1, depths: Sequence[int] = (3, 4, 6, 3),
                 stem_channels: int = 64, base_width: int = 26, scale: int = 4) -> None:
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
                blocks.append(_Bottle2neck(cin, planes, 2 if (j == 0 and i > 0) else 1,
                                           base_width, scale, stage=j == 0))
                cin = planes * _Bottle2neck.expansion
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
            x = as_spectrogram(x, 'res2net.py').unsqueeze(1)
        return self.blocks(self.stem(x)).mean(dim=(2, 3))
