"""Reconstruction targets of AV-MAE pre-training (HiCMAE's recipe, built without gradients).

Video: undo the input normalisation to get ``[0, 1]`` pixels, cut ``tubelet x patch x patch``
tubelets in the encoder's token order, normalise each token per colour channel over its pixel
positions, flatten as (frame-in-tubelet, row, col, channel) with the channel fastest; optional
frame difference. Audio: ``patch x patch`` (time x freq) patches, time-major, each normalised
over its values and flattened (time-in-patch, freq-in-patch).
"""

from typing import Optional, Sequence

import torch


def normalize_patch_values(patches: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Per-patch normalisation ``(x - mean) / (std_unbiased + eps)`` over dim ``-2``.

    Args:
        patches (torch.Tensor): ``(B, N, P, C)``: P values per token and channel.
        eps (float): Added to the standard deviation (not the variance). Defaults to 1e-6.

    Returns:
        torch.Tensor: Normalised patches, same shape.
    """
    mean = patches.mean(dim=-2, keepdim=True)
    std = patches.var(dim=-2, unbiased=True, keepdim=True).sqrt()
    return (patches - mean) / (std + eps)


def tubelet_view(video: torch.Tensor, tubelet_size: int, patch_size: int) -> torch.Tensor:
    """``(B, C, T, H, W)`` -> the view ``(B, t, h, w, tubelet, patch, patch, C)`` (no copy)."""
    B, C, T, H, W = video.shape
    if T % tubelet_size or H % patch_size or W % patch_size:
        raise ValueError(
            'holaframe/models/losses/reconstruction_targets.py: video of shape '
            f'{tuple(video.shape)} is not divisible into {tubelet_size}x{patch_size}x'
            f'{patch_size} tubelets.')
    t, h, w = T // tubelet_size, H // patch_size, W // patch_size
    x = video.reshape(B, C, t, tubelet_size, h, patch_size, w, patch_size)
    return x.permute(0, 2, 4, 6, 3, 5, 7, 1)


def patchify_video(video: torch.Tensor, tubelet_size: int, patch_size: int) -> torch.Tensor:
    """``(B, C, T, H, W)`` -> ``(B, t*h*w, tubelet*patch*patch, C)`` in token order."""
    x = tubelet_view(video, tubelet_size, patch_size)
    B, t, h, w = x.shape[:4]
    return x.reshape(B, t * h * w, tubelet_size * patch_size * patch_size, x.shape[-1])


def unpatchify_video(patches: torch.Tensor, grid: Sequence[int], tubelet_size: int,
                     patch_size: int) -> torch.Tensor:
    """Inverse of :func:`patchify_video`: ``(B, N, P, C)`` -> ``(B, C, T, H, W)``."""
    B, _, _, C = patches.shape
    t, h, w = grid
    x = patches.reshape(B, t, h, w, tubelet_size, patch_size, patch_size, C)
    x = x.permute(0, 7, 1, 4, 2, 5, 3, 6)
    return x.reshape(B, C, t * tubelet_size, h * patch_size, w * patch_size)


@torch.no_grad()
def video_reconstruction_targets(video: torch.Tensor,
                                 tubelet_size: int = 2,
                                 patch_size: int = 16,
                                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                                 std: Sequence[float] = (58.395, 57.12, 57.375),
                                 normalize: bool = True,
                                 frame_diff: bool = False,
                                 frame_diff_group_size: int = 2,
                                 select: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Video targets, one row of ``tubelet * patch * patch * C`` values per token.

    Args:
        video (torch.Tensor): Normalised model input ``(B, C, T, H, W)``.
        tubelet_size (int): Frames per token. Defaults to 2.
        patch_size (int): Pixels per token side. Defaults to 16.
        mean (Sequence[float]): Per-channel mean the data preprocessor subtracted, on the
            0-255 scale. Defaults to ImageNet's.
        std (Sequence[float]): Per-channel std the data preprocessor divided by (0-255 scale).
        normalize (bool): Per-token, per-channel normalisation (HiCMAE ``normlize_target``).
        frame_diff (bool): Replace every frame but the first of each group of
            ``frame_diff_group_size`` consecutive frames by its difference to the group's first
            frame, after normalisation (HiCMAE ``use_frame_diff_as_target``).
        frame_diff_group_size (int): Group size of the frame difference. Defaults to 2.
        select (torch.Tensor, optional): ``(B, N)`` bool tokens to return, the same count per
            row (the decoded positions). Only those tokens are cut out and normalised when the
            frame-difference groups lie within a tubelet (the default 2 / 2); the result equals
            ``targets[select]``.

    Returns:
        torch.Tensor: ``(B, N, tubelet * patch * patch * C)`` float targets, or
        ``(B, n_select, ...)`` with ``select``.
    """
    B, C, T, H, W = video.shape
    if select is not None and (not frame_diff or tubelet_size % frame_diff_group_size == 0):
        return _selected_video_targets(video, select, tubelet_size, patch_size, mean, std,
                                       normalize, frame_diff, frame_diff_group_size)
    if select is not None:  # frame-difference groups span tokens: whole video, then index
        full = video_reconstruction_targets(video, tubelet_size, patch_size, mean, std,
                                            normalize, frame_diff, frame_diff_group_size)
        return full[select].reshape(B, -1, full.shape[-1])
    video = video.float()
    mean_t = video.new_tensor(mean).view(1, C, 1, 1, 1)
    std_t = video.new_tensor(std).view(1, C, 1, 1, 1)
    pixels = (video * std_t + mean_t) / 255.0  # back to [0, 1] pixels
    patches = patchify_video(pixels, tubelet_size, patch_size)
    if normalize:
        patches = normalize_patch_values(patches)
    if frame_diff:
        if T % frame_diff_group_size:
            raise ValueError(
                'holaframe/models/losses/reconstruction_targets.py: frame count '
                f'{T} is not a multiple of frame_diff_group_size={frame_diff_group_size}.')
        grid = (T // tubelet_size, H // patch_size, W // patch_size)
        frames = unpatchify_video(patches, grid, tubelet_size, patch_size)
        frames = frames.reshape(B, C, T // frame_diff_group_size, frame_diff_group_size, H, W)
        first = frames[:, :, :, :1]
        frames = torch.cat([first, frames[:, :, :, 1:] - first], dim=3).reshape(B, C, T, H, W)
        patches = patchify_video(frames, tubelet_size, patch_size)
    return patches.flatten(2)


def _selected_video_targets(video: torch.Tensor, select: torch.Tensor, tubelet_size: int,
                            patch_size: int, mean: Sequence[float], std: Sequence[float],
                            normalize: bool, frame_diff: bool,
                            group: int) -> torch.Tensor:
    """:func:`video_reconstruction_targets` for the ``select`` tokens only (groups in tubelets)."""
    cubes = tubelet_view(video, tubelet_size, patch_size)  # B, t, h, w, p0, p1, p2, C
    B, C = video.shape[:2]
    picked = cubes[select.reshape(cubes.shape[:4])].float()  # (M, p0, p1, p2, C), gathered
    M = picked.shape[0]
    pixels = (picked * picked.new_tensor(std) + picked.new_tensor(mean)) / 255.0
    patches = pixels.reshape(M, 1, -1, C)
    if normalize:
        patches = normalize_patch_values(patches)
    if frame_diff:
        frames = patches.reshape(M, tubelet_size // group, group, patch_size * patch_size, C)
        first = frames[:, :, :1]
        patches = torch.cat([first, frames[:, :, 1:] - first], dim=2)
    return patches.reshape(B, M // B, -1)


@torch.no_grad()
def audio_reconstruction_targets(audio: torch.Tensor,
                                 patch_size: int = 16,
                                 normalize: bool = True,
                                 select: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Audio (fbank) targets, one row of ``patch * patch`` values per token.

    Args:
        audio (torch.Tensor): Model input ``(B, 1, time, freq)``.
        patch_size (int): Patch side. Defaults to 16.
        normalize (bool): Per-token normalisation (HiCMAE ``normlize_target_audio``).
        select (torch.Tensor, optional): ``(B, N)`` bool tokens to return (the same count per
            row); only those are cut out and normalised.

    Returns:
        torch.Tensor: ``(B, N, patch * patch)`` float targets, tokens time-major, or
        ``(B, n_select, patch * patch)`` with ``select``.
    """
    B, C, Tm, F = audio.shape
    if Tm % patch_size or F % patch_size:
        raise ValueError(
            'holaframe/models/losses/reconstruction_targets.py: audio of shape '
            f'{tuple(audio.shape)} is not divisible into {patch_size}x{patch_size} patches.')
    t, f = Tm // patch_size, F // patch_size
    x = audio.reshape(B, C, t, patch_size, f, patch_size).permute(0, 2, 4, 3, 5, 1)
    if select is not None:
        x = x[select.reshape(B, t, f)].float().reshape(B, -1, patch_size * patch_size, C)
    else:
        x = x.float().reshape(B, t * f, patch_size * patch_size, C)
    if normalize:
        x = normalize_patch_values(x)
    return x.flatten(2)
