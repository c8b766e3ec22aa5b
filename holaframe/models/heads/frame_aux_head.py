"""Frame-level auxiliary head supervised by per-frame fake masks (opt-in dense component)."""

from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from holaframe.registry import MODELS
from holaframe.structures import AVDataSample

from .cls_head import stack_gt_labels


def resize_frame_labels(labels: torch.Tensor, length: int) -> torch.Tensor:
    """Resize a per-frame 0/1 mask ``(T,)`` to ``length`` positions.

    Down-sampling keeps a position fake if any frame it covers is fake (adaptive max pooling),
    so short segments survive; up-sampling repeats the nearest frame.

    Args:
        labels (Tensor): Per-frame fake mask ``(T,)``.
        length (int): Target length.
    """
    labels = labels.float().reshape(1, 1, -1)
    if labels.shape[-1] == length:
        out = labels
    elif labels.shape[-1] > length:
        out = F.adaptive_max_pool1d(labels, length)
    else:
        out = F.interpolate(labels, size=length, mode='nearest')
    return out.reshape(length)


@MODELS.register_module()
class FrameAuxHead(nn.Module):
    """Per-position fake logits from the fused local features, trained on ``frame_labels``.

    The fused sequence ``F_f`` ``(B, 2L, C)`` (video positions first, then audio) is split into
    the two aligned streams; each position gets ``[f_v, f_a]`` plus, optionally, the cosine
    similarity of ``f_v[t]`` with ``f_a[t + d]`` for ``d`` in ``[-sync_offsets, sync_offsets]``
    (an explicit audio-visual synchrony cue; with ``sync_source='aligned'`` it is computed on the
    aligned streams *before* interaction and fusion, where each stream still holds only its own
    modality, which the detector passes as ``aligned``), followed by dilated temporal
    convolutions and one logit per position. ``pooling`` (e.g. :class:`TopKFramePooling`) turns
    the frame logits into a clip logit.

    Losses: ``loss_frame`` = binary cross-entropy against ``frame_labels`` resized to ``L``
    (real clips without ``frame_labels`` count as all-real; fake clips without them are
    skipped); ``loss_clip_aux`` = binary cross-entropy of the pooled clip logit against
    ``gt_label``. Using this head means training with segment labels, which the 2025 challenge
    does not allow; the configs that use it say so.

    Args:
        in_channels (int): Width ``C`` of the fused features.
        hidden_channels (int): Width of the temporal convolutions. Defaults to 64.
        sync_offsets (int): Largest frame offset of the synchrony features; 0 disables them.
            Defaults to 4.
        sync_source (str): ``'fused'`` (the halves of ``F_f``) or ``'aligned'`` (the neck
            outputs). Defaults to ``'fused'``.
        dilations (Sequence[int]): Dilation of each temporal conv layer. Defaults to (1, 2, 4).
        kernel_size (int): Temporal kernel size. Defaults to 3.
        pooling (dict): Config of the frame-score pooling. Defaults to max pooling.
        frame_loss_weight (float): Weight of ``loss_frame``. Defaults to 1.
        clip_loss_weight (float): Weight of ``loss_clip_aux``. Defaults to 1.
        window_label (bool): ``loss_clip_aux`` against the label of the sampled window (1 iff
            one of its ``frame_labels`` is fake) instead of the clip's ``gt_label``, so that it
            agrees with ``loss_frame`` on windows of fake clips that miss the fake segment.
            Defaults to False.
    """

    def __init__(self, in_channels: int, hidden_channels: int = 64, sync_offsets: int = 4,
                 sync_source: str = 'fused', dilations: Sequence[int] = (1, 2, 4),
                 kernel_size: int = 3, pooling: Optional[dict] = None,
                 frame_loss_weight: float = 1.0, clip_loss_weight: float = 1.0,
                 window_label: bool = False) -> None:
        super().__init__()
        if sync_source not in ('fused', 'aligned'):
            raise ValueError(f"frame_aux_head.py: sync_source must be 'fused' or 'aligned', "
                             f'got {sync_source!r}')
        self.sync_offsets = sync_offsets
        self.sync_source = sync_source
        channels = 2 * in_channels + (2 * sync_offsets + 1 if sync_offsets > 0 else 0)
        layers = []
        for d in dilations:
            layers += [
                nn.Conv1d(channels, hidden_channels, kernel_size,
                          padding=d * (kernel_size // 2), dilation=d),
                nn.BatchNorm1d(hidden_channels), nn.ReLU(inplace=True)
            ]
            channels = hidden_channels
        self.temporal = nn.Sequential(*layers)
        self.fc = nn.Conv1d(channels, 1, 1)
        self.pooling = MODELS.build(pooling or dict(type='TopKFramePooling', k=1))
        self.frame_loss_weight = frame_loss_weight
        self.clip_loss_weight = clip_loss_weight
        self.window_label = window_label

    def _sync_features(self, f_v: torch.Tensor, f_a: torch.Tensor) -> torch.Tensor:
        """Cosine similarity of ``f_v[t]`` and ``f_a[t + d]``, zero outside the sequence."""
        v = F.normalize(f_v, dim=-1)
        a = F.normalize(f_a, dim=-1)
        k = self.sync_offsets
        a_pad = F.pad(a, (0, 0, k, k))  # (B, L + 2k, C)
        length = v.shape[1]
        sims = [(v * a_pad[:, k + d:k + d + length]).sum(-1) for d in range(-k, k + 1)]
        return torch.stack(sims, dim=-1)  # (B, L, 2k + 1)

    def forward(self, fused: torch.Tensor,
                aligned: Optional[Tuple[torch.Tensor, torch.Tensor]] = None) -> torch.Tensor:
        """Args:
            fused (Tensor): ``F_f`` ``(B, 2L, C)``.
            aligned (tuple[Tensor, Tensor], optional): Neck outputs ``F_v, F_a`` ``(B, L, C)``;
                required when ``sync_source='aligned'``.

        Returns:
            Tensor: Frame logits ``(B, L)``.
        """
        if fused.shape[1] % 2 != 0:
            raise ValueError(f'frame_aux_head.py: expected (B, 2L, C) with video then audio '
                             f'positions, got {tuple(fused.shape)}')
        f_v, f_a = fused.chunk(2, dim=1)
        feats = [f_v, f_a]
        if self.sync_offsets > 0:
            if self.sync_source == 'aligned':
                if aligned is None:
                    raise ValueError("frame_aux_head.py: sync_source='aligned' needs the "
                                     'aligned streams')
                feats.append(self._sync_features(*aligned))
            else:
                feats.append(self._sync_features(f_v, f_a))
        x = torch.cat(feats, dim=-1).transpose(1, 2)  # (B, channels, L)
        return self.fc(self.temporal(x)).squeeze(1)

    def pool(self, frame_logits: torch.Tensor) -> torch.Tensor:
        """Clip logits ``(B,)`` from frame logits ``(B, L)``."""
        return self.pooling(frame_logits)

    def loss(self, frame_logits: torch.Tensor, data_samples: List[AVDataSample]
             ) -> Dict[str, torch.Tensor]:
        """Frame-level and pooled clip-level binary cross-entropy.

        Args:
            frame_logits (Tensor): ``(B, L)``.
            data_samples (list[AVDataSample]): Samples with ``gt_label`` and, for fake clips,
                ``frame_labels``.
        """
        length = frame_logits.shape[1]
        labels = stack_gt_labels(data_samples, frame_logits.device)
        clip_labels = (stack_gt_labels(data_samples, frame_logits.device, from_frames=True)
                       if self.window_label else labels)
        targets, keep = [], []
        for sample, label in zip(data_samples, labels.tolist()):
            if 'frame_labels' in sample:
                targets.append(resize_frame_labels(sample.frame_labels.to(frame_logits.device),
                                                   length))
                keep.append(True)
            else:
                targets.append(frame_logits.new_zeros(length))
                keep.append(label == 0)
        keep_t = torch.tensor(keep, device=frame_logits.device)
        zero = frame_logits.sum() * 0.0
        if bool(keep_t.any()):
            loss_frame = F.binary_cross_entropy_with_logits(
                frame_logits[keep_t], torch.stack(targets)[keep_t])
        else:
            loss_frame = zero
        labelled = clip_labels >= 0
        if bool(labelled.any()):
            loss_clip = F.binary_cross_entropy_with_logits(
                self.pool(frame_logits)[labelled], clip_labels[labelled].float())
        else:
            loss_clip = zero
        return dict(loss_frame=self.frame_loss_weight * loss_frame,
                    loss_clip_aux=self.clip_loss_weight * loss_clip)
