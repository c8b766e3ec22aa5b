"""Temporal alignment neck (HOLA Sec. 3.2.2)."""

from typing import Optional, Tuple

import torch
import torch.nn as nn

from holaframe.models.layers.pos_embed import get_sinusoid_encoding_table
from holaframe.registry import MODELS


class _ModalityAligner(nn.Module):
    """One modality: Conv1d block over the token axis, then a linear map of the sequence axis.

    Args:
        in_channels (int): Token width of the encoder output.
        out_channels (int): Common width ``C``.
        in_length (int, optional): Number of input tokens ``N``; None = no sequence projection
            (the length is kept).
        out_length (int, optional): Common length ``L`` (None with ``in_length`` None).
        kernel_size (int): Conv1d kernel size (odd).
        dilation (int): Conv1d dilation.
        num_convs (int): Number of Conv1d/BN/GELU layers.
    """

    def __init__(self, in_channels: int, out_channels: int, in_length: Optional[int],
                 out_length: Optional[int], kernel_size: int, dilation: int,
                 num_convs: int) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError(f'temporal_alignment_neck.py: kernel_size must be odd, '
                             f'got {kernel_size}')
        layers = []
        channels = in_channels
        for _ in range(num_convs):
            layers += [
                nn.Conv1d(channels, out_channels, kernel_size,
                          padding=dilation * (kernel_size // 2), dilation=dilation),
                nn.BatchNorm1d(out_channels),
                nn.GELU(),
            ]
            channels = out_channels
        self.conv = nn.Sequential(*layers)
        self.in_length = in_length
        if in_length is None:
            self.seq_proj = None
            return
        # Linear projection of the sequence axis N -> L (Sec. 3.2.2).
        self.seq_proj = nn.Linear(in_length, out_length)
        if in_length == out_length:
            # Start from the identity so that an already aligned sequence keeps its frame order.
            nn.init.eye_(self.seq_proj.weight)
            nn.init.zeros_(self.seq_proj.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 3 or (self.in_length is not None and x.shape[1] != self.in_length):
            raise ValueError(
                f'temporal_alignment_neck.py: expected tokens (B, {self.in_length}, C), '
                f'got {tuple(x.shape)}; set in_length_* to the encoder token count')
        x = self.conv(x.transpose(1, 2))  # (B, C, N)
        if self.seq_proj is not None:
            x = self.seq_proj(x)  # (B, C, L)
        return x.transpose(1, 2)  # (B, L, C)


@MODELS.register_module()
class TemporalAlignmentNeck(nn.Module):
    """Maps video and audio tokens to a common length ``L`` and width ``C`` (Sec. 3.2.2).

    Per modality a 1-D convolution block (Conv1d, BatchNorm1d, GELU) over the token axis,
    followed by a linear projection of the sequence axis from the modality's token count to
    ``L``: ``F_v, F_a in R^{L x C}``. Where the input length already equals ``L`` the projection
    starts as the identity. With ``in_length_video = in_length_audio = out_length = None`` the
    sequence projection is left out and any length is accepted (for per-frame encoders whose
    two streams are already aligned frame by frame and whose clips vary in length; an opt-in
    variant, not the paper's). The paper does not say whether positions are added after the neck;
    ``add_pos_embed=True`` adds a fixed sine-cosine table so that the position-blind attention
    of the following interaction and fusion modules can tell frames apart.

    Args:
        in_channels_video (int): Video token width.
        in_channels_audio (int): Audio token width.
        out_channels (int): Common width ``C``.
        in_length_video (int, optional): Number of video tokens.
        in_length_audio (int, optional): Number of audio tokens.
        out_length (int, optional): Common length ``L``.
        kernel_size (int): Conv1d kernel size. Defaults to 3.
        dilation (int): Conv1d dilation. Defaults to 1.
        num_convs (int): Conv layers per modality. Defaults to 1.
        add_pos_embed (bool): Add a fixed sin-cos table to both outputs. Defaults to True.
        max_length (int): Longest sequence in variable-length mode. Defaults to 1024.
    """

    def __init__(self, in_channels_video: int, in_channels_audio: int, out_channels: int,
                 in_length_video: Optional[int], in_length_audio: Optional[int],
                 out_length: Optional[int],
                 kernel_size: int = 3, dilation: int = 1, num_convs: int = 1,
                 add_pos_embed: bool = True, max_length: int = 1024) -> None:
        super().__init__()
        self.out_channels = out_channels
        self.out_length = out_length
        self.add_pos_embed = add_pos_embed
        lengths = (in_length_video, in_length_audio, out_length)
        if None in lengths and any(n is not None for n in lengths):
            raise ValueError(f'temporal_alignment_neck.py: in_length_video, in_length_audio and '
                             f'out_length must all be set or all be None, got {lengths}')
        # Fixed table (not saved in checkpoints); sliced to the length in variable-length mode.
        self.register_buffer(
            'pos_embed', get_sinusoid_encoding_table(out_length or max_length, out_channels),
            persistent=False)
        self.video = _ModalityAligner(in_channels_video, out_channels, in_length_video,
                                      out_length, kernel_size, dilation, num_convs)
        self.audio = _ModalityAligner(in_channels_audio, out_channels, in_length_audio,
                                      out_length, kernel_size, dilation, num_convs)

    def forward(self, video: torch.Tensor, audio: torch.Tensor,
                has_audio: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Align both modalities.

        Args:
            video (Tensor): Video tokens ``(B, N_v, C_v)``.
            audio (Tensor): Audio tokens ``(B, N_a, C_a)``.
            has_audio (Tensor, optional): ``(B,)`` bool; audio of silent clips is set to zero.

        Returns:
            tuple: ``F_v`` and ``F_a``, each ``(B, L, C)``.
        """
        f_v = self.video(video)
        f_a = self.audio(audio)
        if f_v.shape[1] != f_a.shape[1]:
            raise ValueError(f'temporal_alignment_neck.py: aligned lengths differ: video '
                             f'{f_v.shape[1]}, audio {f_a.shape[1]}')
        if has_audio is not None:
            f_a = f_a * has_audio.to(f_a.dtype).view(-1, 1, 1)
        if self.add_pos_embed:
            if f_v.shape[1] > self.pos_embed.shape[1]:
                raise ValueError(f'temporal_alignment_neck.py: length {f_v.shape[1]} exceeds '
                                 f'max_length {self.pos_embed.shape[1]}')
            pos = self.pos_embed[:, :f_v.shape[1]].to(dtype=f_v.dtype)
            f_v = f_v + pos
            f_a = f_a + pos
        return f_v, f_a
