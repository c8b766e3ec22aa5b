"""Light per-video-frame audio encoder (opt-in dense component)."""

from typing import Optional

import torch
import torch.nn as nn

from holaframe.registry import MODELS


@MODELS.register_module()
class FrameAudioEncoder(nn.Module):
    """Encodes audio features resolved per video frame into one token per frame.

    Input ``(B, T, F)`` (e.g. per-frame log-mel or MFCC; a trailing ``(B, T, k, F)`` layout is
    flattened to ``(B, T, k * F)``). BatchNorm over the features, a per-frame MLP, then a
    residual temporal Conv1d, then LayerNorm: ``(B, T, D)``.

    Args:
        in_channels (int): Features per frame ``F`` (after flattening).
        embed_dim (int): Token width ``D``. Defaults to 64.
        hidden_channels (int, optional): MLP hidden width. Defaults to ``2 * embed_dim``.
        kernel_size (int): Temporal kernel size. Defaults to 3.
    """

    def __init__(self, in_channels: int, embed_dim: int = 64,
                 hidden_channels: Optional[int] = None, kernel_size: int = 3) -> None:
        super().__init__()
        hidden_channels = hidden_channels or 2 * embed_dim
        self.in_channels = in_channels
        self.embed_dim = embed_dim
        # Per-feature statistics (a per-frame LayerNorm would remove the loudness cue).
        self.input_norm = nn.BatchNorm1d(in_channels)
        self.mlp = nn.Sequential(
            nn.Linear(in_channels, hidden_channels), nn.GELU(),
            nn.Linear(hidden_channels, embed_dim))
        self.temporal = nn.Sequential(
            nn.Conv1d(embed_dim, embed_dim, kernel_size, padding=kernel_size // 2),
            nn.BatchNorm1d(embed_dim), nn.GELU())
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Args:
            x (Tensor): Audio features ``(B, T, F)`` or ``(B, T, k, F)``.
            mask (Tensor, optional): Must be None (no token masking).

        Returns:
            Tensor: Normalised tokens ``(B, T, D)``.
        """
        if mask is not None:
            raise ValueError('frame_audio_encoder.py: FrameAudioEncoder does not support '
                             'token masking')
        if x.dim() > 3:
            x = x.flatten(2)
        if x.dim() != 3 or x.shape[-1] != self.in_channels:
            raise ValueError(f'frame_audio_encoder.py: expected audio (B, T, {self.in_channels}),'
                             f' got {tuple(x.shape)}')
        x = self.input_norm(x.transpose(1, 2)).transpose(1, 2)
        x = self.mlp(x)  # (B, T, D)
        x = x + self.temporal(x.transpose(1, 2)).transpose(1, 2)
        return self.norm(x)
