"""HiCMAE's hierarchical cross-modal contrastive loss (optional in AV-MAE pre-training)."""

from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from holaframe.registry import MODELS


@MODELS.register_module()
class HierarchicalContrastiveLoss(nn.Module):
    """InfoNCE between pooled intermediate video and audio encoder layers.

    For every listed encoder layer: mean over the (visible) tokens of the normalised
    intermediate outputs, divide by the L2 norm (no epsilon, as HiCMAE), logits
    ``video @ audio^T / temperature``; loss = ``loss_weight * sum_layers
    (CE(logits_v, arange(B)) + CE(logits_a, arange(B))) / 2`` with ``logits_a = logits_v^T``.

    Args:
        temperature (float): Softmax temperature. Defaults to 0.07 (HiCMAE).
        loss_weight (float): Weight of the summed loss. Defaults to 0.0025 (HiCMAE's script).
    """

    def __init__(self, temperature: float = 0.07, loss_weight: float = 0.0025) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError('holaframe/models/losses/hierarchical_contrastive_loss.py: '
                             f'temperature must be positive, got {temperature}.')
        self.temperature = temperature
        self.loss_weight = loss_weight

    def logits(self, video_feats: Sequence[torch.Tensor], audio_feats: Sequence[torch.Tensor]
               ) -> Tuple[List[torch.Tensor], List[torch.Tensor]]:
        """Per-layer logits.

        Args:
            video_feats (Sequence[torch.Tensor]): Per layer ``(B, N_v, C)`` tokens.
            audio_feats (Sequence[torch.Tensor]): Per layer ``(B, N_a, C)`` tokens.

        Returns:
            tuple[list[torch.Tensor], list[torch.Tensor]]: ``logits_per_video`` ``(B, B)``
            [video i, audio j] and their transposes ``logits_per_audio``, one per layer.
        """
        if len(video_feats) != len(audio_feats):
            raise ValueError('holaframe/models/losses/hierarchical_contrastive_loss.py: got '
                             f'{len(video_feats)} video and {len(audio_feats)} audio layers.')
        per_video, per_audio = [], []
        for v, a in zip(video_feats, audio_feats):
            v = v.mean(dim=1)
            a = a.mean(dim=1)
            v = v / v.norm(dim=1, keepdim=True)
            a = a / a.norm(dim=1, keepdim=True)
            logits = v @ a.t() / self.temperature
            per_video.append(logits)
            per_audio.append(logits.t())
        return per_video, per_audio

    def forward(self, logits_per_video: Sequence[torch.Tensor],
                logits_per_audio: Sequence[torch.Tensor]) -> torch.Tensor:
        """Loss from the per-layer logits of :meth:`logits`.

        Args:
            logits_per_video (Sequence[torch.Tensor]): Per layer ``(B, B)``.
            logits_per_audio (Sequence[torch.Tensor]): Per layer ``(B, B)``.

        Returns:
            torch.Tensor: Scalar loss.
        """
        total = None
        for lv, la in zip(logits_per_video, logits_per_audio):
            labels = torch.arange(lv.shape[0], device=lv.device)
            term = 0.5 * (F.cross_entropy(lv.float(), labels) +
                          F.cross_entropy(la.float(), labels))
            total = term if total is None else total + term
        if total is None:
            raise ValueError('holaframe/models/losses/hierarchical_contrastive_loss.py: no '
                             'layers given.')
        return self.loss_weight * total

    def extra_repr(self) -> str:
        return f'temperature={self.temperature}, loss_weight={self.loss_weight}'
