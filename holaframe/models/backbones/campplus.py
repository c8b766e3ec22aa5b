"""CAM++ speaker-embedding network as an audio deepfake baseline."""

from typing import Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from holaframe.registry import MODELS

from .utils import as_spectrogram


class _BasicResBlock2d(nn.Module):
    """ResNet basic block that strides along frequency only (the FCM front end)."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=(stride, 1), padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Identity()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(
                nn.Conv2d(cin, cout, 1, stride=(stride, 1), bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(y + self.shortcut(x))


class _CAMDenseLayer(nn.Module):
    """BN-ReLU-1x1 conv bottleneck, BN-ReLU, then the context-aware masking layer."""

    def __init__(self, cin: int, growth: int, bn_channels: int, kernel: int, dilation: int,
                 seg_len: int) -> None:
        super().__init__()
        self.pre = nn.Sequential(nn.BatchNorm1d(cin), nn.ReLU(inplace=True),
                                 nn.Conv1d(cin, bn_channels, 1, bias=False),
                                 nn.BatchNorm1d(bn_channels), nn.ReLU(inplace=True))
        self.local = nn.Conv1d(bn_channels, growth, kernel, dilation=dilation,
                               padding=(kernel - 1) // 2 * dilation, bias=False)
        self.ctx1 = nn.Conv1d(bn_channels, bn_channels // 2, 1)
        self.ctx2 = nn.Conv1d(bn_channels // 2, growth, 1)
        self.seg_len = seg_len

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pre(x)
        t = x.shape[-1]
        seg = F.avg_pool1d(x, self.seg_len, self.seg_len, ceil_mode=True)
        seg = seg.repeat_interleave(self.seg_len, dim=-1)[..., :t]
        ctx = x.mean(dim=-1, keepdim=True) + seg  # global + segment context
        mask = torch.sigmoid(self.ctx2(F.relu(self.ctx1(ctx))))
        return self.local(x) * mask


@MODELS.register_module()
class CAMPPlus(nn.Module):
    """CAM++ (Wang et al., "CAM++: A Fast and Efficient Network for Speaker Verification Using
    Context-Aware Masking", Interspeech 2023).

    Front-end convolution module (FCM: a 3x3 conv and two stages of two 2-D residual blocks
    with 32 channels that stride along frequency, then a stride-(2, 1) conv; the F/8 x 32
    maps are flattened into channels), a TDNN layer (k=5, stride 2, 128 channels), three
    densely connected TDNN blocks (12, 24, 16 layers, growth 32, bottleneck 128, k=3, dilation
    1, 2, 2) whose layers carry context-aware masking (global and 100-frame segment average
    pooling predict a sigmoid mask on the local conv's output), transit layers halving the
    channels, statistics pooling and a dense layer to the 192-d embedding.

    Standard size: 80 filterbank bins, embedding 192: 7.18 M parameters in the paper's
    Table 1; the count here is the network up to the embedding, as that figure counts it.

    Args:
        in_channels (int): Filterbank bins F (a multiple of 8). Defaults to 80.
        fcm_channels (int): Channels of the FCM. Defaults to 32.
        init_channels (int): TDNN layer width. Defaults to 128.
        growth_rate (int): Growth of each dense layer. Defaults to 32.
        bn_size (int): Bottleneck multiple of the growth rate. Defaults to 4.
        num_layers (Sequence[int]): Layers of each dense block. Defaults to (12, 24, 16).
        dilations (Sequence[int]): Dilation of each dense block. Defaults to (1, 2, 2).
        embed_dim (int): Embedding width. Defaults to 192.
        seg_len (int): Segment pooling length in frames. Defaults to 100.
    """

    def __init__(self, in_channels: int = 80, fcm_channels: int = 32, init_channels: int = 128,
                 growth_rate: int = 32, bn_size: int = 4,
                 num_layers: Sequence[int] = (12, 24, 16),
                 dilations: Sequence[int] = (1, 2, 2), embed_dim: int = 192,
                 seg_len: int = 100) -> None:
        super().__init__()
        if in_channels % 8:
            raise ValueError(f'campplus.py: in_channels must be a multiple of 8, got '
                             f'{in_channels}')
        self.in_channels = in_channels
        m = fcm_channels
        self.fcm = nn.Sequential(
            nn.Conv2d(1, m, 3, padding=1, bias=False), nn.BatchNorm2d(m), nn.ReLU(inplace=True),
            _BasicResBlock2d(m, m, 2), _BasicResBlock2d(m, m, 1),
            _BasicResBlock2d(m, m, 2), _BasicResBlock2d(m, m, 1),
            nn.Conv2d(m, m, 3, stride=(2, 1), padding=1, bias=False), nn.BatchNorm2d(m),
            nn.ReLU(inplace=True))
        ch = m * (in_channels // 8)
        layers = [nn.Conv1d(ch, init_channels, 5, stride=2, padding=2, bias=False),
                  nn.BatchNorm1d(init_channels), nn.ReLU(inplace=True)]
        ch = init_channels
        for n, d in zip(num_layers, dilations):
            for i in range(n):
                layers.append(_DenseAppend(_CAMDenseLayer(ch + i * growth_rate, growth_rate,
                                                          bn_size * growth_rate, 3, d, seg_len)))
            ch += n * growth_rate
            layers += [nn.BatchNorm1d(ch), nn.ReLU(inplace=True),
                       nn.Conv1d(ch, ch // 2, 1, bias=False)]
            ch //= 2
        layers += [nn.BatchNorm1d(ch), nn.ReLU(inplace=True)]
        self.xvector = nn.Sequential(*layers)
        self.dense = nn.Conv1d(ch * 2, embed_dim, 1, bias=False)
        self.embed_bn = nn.BatchNorm1d(embed_dim, affine=False)
        self.out_channels = embed_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Embed a batch of filterbanks.

        Args:
            x (torch.Tensor): ``(B, 1, T, F)`` or ``(B, T, F)``.

        Returns:
            torch.Tensor: Embeddings ``(B, embed_dim)``.
        """
        x = as_spectrogram(x, 'campplus.py')
        if x.shape[-1] != self.in_channels:
            raise ValueError(f'campplus.py: expected {self.in_channels} bins, got {x.shape[-1]}')
        x = self.fcm(x.transpose(1, 2).unsqueeze(1))  # (B, m, F/8, T)
        x = self.xvector(x.flatten(1, 2))
        stats = torch.cat([x.mean(dim=-1), x.std(dim=-1)], dim=1)
        return self.embed_bn(self.dense(stats.unsqueeze(-1)).squeeze(-1))


class _DenseAppend(nn.Module):
    """Dense connectivity: the layer's output is appended to its input along channels."""

    def __init__(self, layer: nn.Module) -> None:
        super().__init__()
        self.layer = layer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([x, self.layer(x)], dim=1)
