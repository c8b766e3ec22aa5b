"""Light per-frame convolutional video encoder (opt-in dense component)."""

from typing import Optional, Sequence

import torch
import torch.nn as nn

from holaframe.registry import MODELS


def _clip_norm(norm: nn.GroupNorm, feats: torch.Tensor, batch: int) -> torch.Tensor:
    """Apply ``norm`` (one group per channel) over each clip's ``T x H x W``: ``(B*T, C, H, W)``
    frames are viewed as ``B`` clips of ``(C, T, H, W)``."""
    bt, c, h, w = feats.shape
    clips = feats.reshape(batch, bt // batch, c, h, w).transpose(1, 2)  # (B, C, T, H, W)
    out = norm(clips)
    return out.transpose(1, 2).reshape(bt, c, h, w)


@MODELS.register_module()
class FrameConvStem(nn.Module):
    """Encodes every frame of a (mouth-crop) clip into one token: ``(B, C, T, H, W) -> (B, T, D)``.

    Each frame, optionally stacked with its difference to the previous frame (a motion cue; zero
    for the first frame), goes through stride-2 Conv2d/BatchNorm/ReLU stages and global average
    pooling; a linear layer and LayerNorm give the token. A single-frame stem cannot see motion,
    so the frame difference matters for lip-sync cues.

    ``norm='batch'`` normalises each stage with BatchNorm, whose running statistics are those of
    the training data. ``norm='clip'`` normalises each channel of each stage over the clip's own
    frames and pixels instead (instance normalisation over ``T x H x W``, no running
    statistics, with a learnt scale and shift): what a channel says is how it changes within the
    clip, not its level, so a source whose texture, sharpness or noise drives every channel
    harder than the training data's did is not read as a different mouth.

    Args:
        in_channels (int): Image channels. Defaults to 3.
        embed_dim (int): Token width ``D``. Defaults to 64.
        stage_channels (Sequence[int]): Output channels of the stride-2 stages.
            Defaults to (16, 32, 64, 64).
        use_frame_diff (bool): Stack the frame difference onto each frame. Defaults to True.
        norm (str): ``'batch'`` (default) or ``'clip'`` (above).
    """

    def __init__(self, in_channels: int = 3, embed_dim: int = 64,
                 stage_channels: Sequence[int] = (16, 32, 64, 64),
                 use_frame_diff: bool = True, norm: str = 'batch') -> None:
        super().__init__()
        if norm not in ('batch', 'clip'):
            raise ValueError(f"frame_conv_stem.py: norm must be 'batch' or 'clip', got {norm!r}")
        self.in_channels = in_channels
        self.use_frame_diff = use_frame_diff
        self.embed_dim = embed_dim
        self.norm_type = norm
        layers = []
        channels = in_channels * (2 if use_frame_diff else 1)
        for out in stage_channels:
            norm_layer = nn.BatchNorm2d(out) if norm == 'batch' else nn.GroupNorm(out, out)
            layers += [nn.Conv2d(channels, out, 3, stride=2, padding=1, bias=False),
                       norm_layer, nn.ReLU(inplace=True)]
            channels = out
        self.stages = nn.Sequential(*layers)
        self.proj = nn.Linear(channels, embed_dim)
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Args:
            x (Tensor): Video ``(B, C, T, H, W)`` (normalised).
            mask (Tensor, optional): Must be None (no token masking in a per-frame stem).

        Returns:
            Tensor: Normalised frame tokens ``(B, T, D)``.
        """
        if mask is not None:
            raise ValueError('frame_conv_stem.py: FrameConvStem does not support token masking')
        if x.dim() != 5 or x.shape[1] != self.in_channels:
            raise ValueError(f'frame_conv_stem.py: expected video (B, {self.in_channels}, T, H, '
                             f'W), got {tuple(x.shape)}')
        b, c, t, h, w = x.shape
        if self.use_frame_diff:
            diff = torch.zeros_like(x)
            diff[:, :, 1:] = x[:, :, 1:] - x[:, :, :-1]
            x = torch.cat([x, diff], dim=1)
        frames = x.transpose(1, 2).reshape(b * t, x.shape[1], h, w)
        if self.norm_type == 'batch':
            feats = self.stages(frames)
        else:
            feats = frames
            for layer in self.stages:
                feats = _clip_norm(layer, feats, b) if isinstance(layer, nn.GroupNorm) \
                    else layer(feats)
        feats = feats.mean(dim=(2, 3))  # global average pooling
        return self.norm(self.proj(feats)).reshape(b, t, self.embed_dim)
