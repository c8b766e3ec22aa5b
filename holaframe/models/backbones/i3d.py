"""I3D (Inflated Inception-v1) as a video deepfake baseline."""

from typing import Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from holaframe.registry import MODELS

from .utils import as_video

# Inception-v1 mixed blocks: (1x1, 3x3 reduce, 3x3, 3x3 reduce, 3x3, pool proj) widths.
INCEPTION_V1 = {
    'Mixed_3b': (64, 96, 128, 16, 32, 32),
    'Mixed_3c': (128, 128, 192, 32, 96, 64),
    'Mixed_4b': (192, 96, 208, 16, 48, 64),
    'Mixed_4c': (160, 112, 224, 24, 64, 64),
    'Mixed_4d': (128, 128, 256, 24, 64, 64),
    'Mixed_4e': (112, 144, 288, 32, 64, 64),
    'Mixed_4f': (256, 160, 320, 32, 128, 128),
    'Mixed_5b': (256, 160, 320, 32, 128, 128),
    'Mixed_5c': (384, 192, 384, 48, 128, 128),
}


class _Unit3d(nn.Module):
    """Conv3d (no bias) -> BN (eps 1e-3) -> ReLU with TensorFlow-style 'SAME' padding."""

    def __init__(self, cin: int, cout: int, kernel: Sequence[int] = (1, 1, 1),
                 stride: Sequence[int] = (1, 1, 1)) -> None:
        super().__init__()
        self.kernel, self.stride = tuple(kernel), tuple(stride)
        self.conv = nn.Conv3d(cin, cout, self.kernel, self.stride, bias=False)
        self.bn = nn.BatchNorm3d(cout, eps=1e-3, momentum=0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(F.pad(x, _same_pad(x, self.kernel, self.stride)))))


def _same_pad(x: torch.Tensor, kernel: Tuple[int, ...], stride: Tuple[int, ...]) -> list:
    """``F.pad`` amounts for TensorFlow 'SAME' padding of the last three dims."""
    pad = []
    for size, k, s in zip(reversed(x.shape[2:]), reversed(kernel), reversed(stride)):
        total = max(k - s, 0) if size % s == 0 else max(k - size % s, 0)
        pad += [total // 2, total - total // 2]
    return pad


class _MaxPool3dSame(nn.Module):
    """Max pooling with 'SAME' padding (padded with the minimum, so it never wins)."""

    def __init__(self, kernel: Sequence[int], stride: Sequence[int]) -> None:
        super().__init__()
        self.kernel, self.stride = tuple(kernel), tuple(stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(x, _same_pad(x, self.kernel, self.stride), value=float('-inf'))
        return F.max_pool3d(x, self.kernel, self.stride)


class _InceptionBlock3d(nn.Module):
    """Four branches (1x1; 1x1 -> 3x3x3; 1x1 -> 3x3x3; 3x3x3 max pool -> 1x1), concatenated."""

    def __init__(self, cin: int, widths: Sequence[int]) -> None:
        super().__init__()
        w = widths
        self.b0 = _Unit3d(cin, w[0])
        self.b1 = nn.Sequential(_Unit3d(cin, w[1]), _Unit3d(w[1], w[2], (3, 3, 3)))
        self.b2 = nn.Sequential(_Unit3d(cin, w[3]), _Unit3d(w[3], w[4], (3, 3, 3)))
        self.b3 = nn.Sequential(_MaxPool3dSame((3, 3, 3), (1, 1, 1)), _Unit3d(cin, w[5]))
        self.out_channels = w[0] + w[2] + w[4] + w[5]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.b0(x), self.b1(x), self.b2(x), self.b3(x)], dim=1)


@MODELS.register_module()
class I3D(nn.Module):
    """I3D RGB stream (Carreira and Zisserman, "Quo Vadis, Action Recognition? A New Model and
    the Kinetics Dataset", CVPR 2017): Inception-v1 with every filter and pooling kernel
    inflated to 3-D (Fig. 3 of the paper).

    7x7x7 stride-2 conv (64), 1x3x3 max pool, 1x1x1 conv (64), 3x3x3 conv (192), 1x3x3 max
    pool, Mixed_3b-3c, 3x3x3 stride-2 max pool, Mixed_4b-4f, 2x2x2 stride-2 max pool,
    Mixed_5b-5c, global average pooling to the 1024-d clip feature the classifier's head reads
    (in the paper a 1x1x1 conv, i.e. a linear layer, after dropout). BN after every conv,
    'SAME' padding as in the released TensorFlow model.

    Standard size: the paper's Table 1 gives 25 M parameters for the two-stream I3D, i.e.
    12.5 M per stream, with the 400 Kinetics classes; the tests count this network plus a
    400-way linear layer against 12.5 M (12.7 M here, BN parameters included: +1.6 %).
    Standard input: 64 RGB frames at 224 x 224 (Sec. 3.5); the network is fully
    convolutional, so 16 frames work as well.

    Args:
        in_channels (int): Input planes. Defaults to 3.
        width_mult (float): Multiplier of every width (1 = Inception-v1). Defaults to 1.
    """

    def __init__(self, in_channels: int = 3, width_mult: float = 1.0) -> None:
        super().__init__()
        self.in_channels = in_channels

        def w(c: int) -> int:
            return max(1, int(round(c * width_mult)))

        layers = [_Unit3d(in_channels, w(64), (7, 7, 7), (2, 2, 2)),
                  _MaxPool3dSame((1, 3, 3), (1, 2, 2)),
                  _Unit3d(w(64), w(64)),
                  _Unit3d(w(64), w(192), (3, 3, 3)),
                  _MaxPool3dSame((1, 3, 3), (1, 2, 2))]
        cin = w(192)
        for name, widths in INCEPTION_V1.items():
            if name == 'Mixed_4b':
                layers.append(_MaxPool3dSame((3, 3, 3), (2, 2, 2)))
            elif name == 'Mixed_5b':
                layers.append(_MaxPool3dSame((2, 2, 2), (2, 2, 2)))
            block = _InceptionBlock3d(cin, [w(c) for c in widths])
            layers.append(block)
            cin = block.out_channels
        self.features = nn.Sequential(*layers)
        self.out_channels = cin

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled clip features.

        Args:
            x (torch.Tensor): ``(B, C, T, H, W)``.

        Returns:
            torch.Tensor: ``(B, out_channels)``.
        """
        x = as_video(x, 'i3d.py', self.in_channels)
        return self.features(x).mean(dim=(2, 3, 4))
