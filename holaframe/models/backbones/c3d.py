"""C3D as a video deepfake baseline."""

from typing import Sequence

import torch
import torch.nn as nn

from holaframe.registry import MODELS

from .utils import as_video


@MODELS.register_module()
class C3D(nn.Module):
    """C3D (Tran et al., "Learning Spatiotemporal Features with 3D Convolutional Networks",
    ICCV 2015 (the paper's Table 1 lists it under CVPR)).

    Eight 3x3x3 convolutions (64, 128, 256, 256, 512, 512, 512, 512 filters, stride 1, ReLU)
    and five max-pooling layers (1x2x2 for the first, 2x2x2 after; pool5 pads H and W by one
    as in the released model), then fc6 and fc7 (4096, ReLU, dropout 0.5). The classifier's
    head replaces fc8 and reads fc7 (the "C3D feature" of Sec. 3.3).

    Standard size and input: 16 RGB frames at 112 x 112 (the crop the paper trains on); fc6
    then reads 512 x 1 x 4 x 4 = 8192 values. The paper states no parameter count; the count
    here (pinned in the tests, 78.0 M without fc8) follows from Fig. 3. The network has no
    batch norm, so its weights start from He initialisation.

    Args:
        in_channels (int): Input planes. Defaults to 3.
        num_frames (int): Frames per clip (fixes fc6's input). Defaults to 16.
        img_size (int): Frame side (fixes fc6's input). Defaults to 112.
        channels (Sequence[int]): The eight conv widths. Defaults to C3D's.
        fc_dim (int): Width of fc6 and fc7. Defaults to 4096.
        dropout (float): Dropout after fc6 and fc7. Defaults to 0.5.
    """

    def __init__(self, in_channels: int = 3, num_frames: int = 16, img_size: int = 112,
                 channels: Sequence[int] = (64, 128, 256, 256, 512, 512, 512, 512),
                 fc_dim: int = 4096, dropout: float = 0.5) -> None:
        super().__init__()
        if len(channels) != 8:
            raise ValueError(f'c3d.py: channels must list 8 conv widths, got {len(channels)}')
        self.in_channels, self.num_frames, self.img_size = in_channels, num_frames, img_size
        c = channels
        pools = {0: (1, 2, 2), 1: (2, 2, 2), 3: (2, 2, 2), 5: (2, 2, 2), 7: (2, 2, 2)}
        layers, cin = [], in_channels
        for i, cout in enumerate(c):
            layers += [nn.Conv3d(cin, cout, 3, padding=1), nn.ReLU(inplace=True)]
            if i in pools:
                pad = (0, 1, 1) if i == 7 else 0
                layers.append(nn.MaxPool3d(pools[i], pools[i], padding=pad))
            cin = cout
        self.features = nn.Sequential(*layers)
        if num_frames % 16 or img_size % 16 or num_frames < 16:
            raise ValueError(f'c3d.py: needs num_frames and img_size multiples of 16, got '
                             f'{num_frames} and {img_size}')
        t, s = num_frames // 16, img_size // 32 + 1  # after pool5 (H and W padded by one)
        self.fc = nn.Sequential(
            nn.Linear(c[-1] * t * s * s, fc_dim), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(fc_dim, fc_dim), nn.ReLU(inplace=True), nn.Dropout(dropout))
        self.out_channels = fc_dim
        # He initialisation: without batch norm, PyTorch's default init shrinks the signal
        # through eight convolutions until every ReLU is off (no gradient at all).
        for m in self.modules():
            if isinstance(m, (nn.Conv3d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight, nonlinearity='relu')
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """fc7 features of a clip batch.

        Args:
            x (torch.Tensor): ``(B, C, num_frames, img_size, img_size)``.

        Returns:
            torch.Tensor: ``(B, fc_dim)``.
        """
        x = as_video(x, 'c3d.py', self.in_channels)
        if tuple(x.shape[2:]) != (self.num_frames, self.img_size, self.img_size):
            raise ValueError(f'c3d.py: fc6 is sized for {self.num_frames} frames at '
                             f'{self.img_size} px, got {tuple(x.shape[2:])}; set num_frames '
                             f'and img_size to the pipeline\'s')
        return self.fc(self.features(x).flatten(1))
