"""Input-shape helpers shared by the Table 1 baseline backbones."""

import torch


def as_spectrogram(x: torch.Tensor, name: str) -> torch.Tensor:
    """Audio features as ``(B, T, F)`` (time frames, frequency bins).

    ``AudioFbank`` packs ``(1, T, F)`` per clip, so a batch is ``(B, 1, T, F)``; ``(B, T, F)``
    is taken as it is.

    Args:
        x (torch.Tensor): ``(B, 1, T, F)`` or ``(B, T, F)``.
        name (str): Calling file, named in the error.
    """
    if x.dim() == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.dim() != 3:
        raise ValueError(f'{name}: audio must be (B, 1, T, F) or (B, T, F) features (e.g. from '
                         f'AudioFbank), got {tuple(x.shape)}')
    return x


def as_video(x: torch.Tensor, name: str, channels: int = 3) -> torch.Tensor:
    """Check a ``(B, C, T, H, W)`` video batch.

    Args:
        x (torch.Tensor): Video from ``AVDataPreprocessor``.
        name (str): Calling file, named in the error.
        channels (int): Expected ``C``.
    """
    if x.dim() != 5 or x.shape[1] != channels:
        raise ValueError(f'{name}: video must be (B, {channels}, T, H, W), got {tuple(x.shape)}')
    return x
