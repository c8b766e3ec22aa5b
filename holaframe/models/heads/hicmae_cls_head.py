"""HiCMAE's fine-tuning classification head (the "pre-trained baseline" of Table 3)."""

from typing import Dict, List, Sequence, Union

import torch
import torch.nn.functional as F
from torch import nn

from holaframe.registry import MODELS
from holaframe.structures import AVDataSample

from .cls_head import stack_gt_labels

Layers = Union[torch.Tensor, Sequence[torch.Tensor]]


@MODELS.register_module()
class HiCMAEClsHead(nn.Module):
    """Layer-weighted pooling of both encoders + pooled fused streams, ``fc_norm``, ``fc``.

    ``f_v = sum_l softmax(video_layer_weights)_l * mean_tokens(video layer l)`` (same for audio);
    ``feat = [f_v, f_a, mean_tokens(fused video), mean_tokens(fused audio)]``
    (width ``2 * (video_dim + audio_dim)``); ``logits = fc(fc_norm(feat))``. The per-layer
    inputs are the encoders' ``norm``-ed block outputs (``encoder(x, out_indices='all')[1]``);
    the fused streams come from :class:`~holaframe.models.fusion.HiCMAEFusionEncoder` applied to
    the encoders' final outputs. HiCMAE key map: ``video_layer_weights``,
    ``audio_layer_weights``, ``fc_norm.*`` -> same names, ``head.*`` -> ``fc.*``.

    Args:
        video_dim (int): Video token width.
        audio_dim (int): Audio token width.
        video_depth (int): Number of video layers pooled (encoder depth).
        audio_depth (int): Number of audio layers pooled.
        num_classes (int): Classes. Defaults to 2 (real, fake).
        norm_eps (float): ``fc_norm`` epsilon. Defaults to 1e-6.
        dropout (float): Dropout before ``fc``. Defaults to 0.
        loss_weight (float): Weight of ``loss_cls``. Defaults to 1.
        label_smoothing (float): Cross-entropy label smoothing. Defaults to 0.
    """

    def __init__(self,
                 video_dim: int,
                 audio_dim: int,
                 video_depth: int,
                 audio_depth: int,
                 num_classes: int = 2,
                 norm_eps: float = 1e-6,
                 dropout: float = 0.,
                 loss_weight: float = 1.,
                 label_smoothing: float = 0.) -> None:
        super().__init__()
        self.video_depth = video_depth
        self.audio_depth = audio_depth
        self.in_channels = 2 * (video_dim + audio_dim)
        self.video_layer_weights = nn.Parameter(torch.ones(video_depth) / video_depth)
        self.audio_layer_weights = nn.Parameter(torch.ones(audio_depth) / audio_depth)
        self.fc_norm = nn.LayerNorm(self.in_channels, eps=norm_eps)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(self.in_channels, num_classes)
        self.loss_weight = loss_weight
        self.label_smoothing = label_smoothing

    @staticmethod
    def _layer_pool(layers: Layers, weights: torch.Tensor, depth: int,
                    name: str) -> torch.Tensor:
        if not torch.is_tensor(layers):
            layers = torch.stack(list(layers), dim=2)  # (B, N, L, C), HiCMAE layout
        if layers.ndim != 4 or layers.shape[2] != depth:
            raise ValueError(
                f'holaframe/models/heads/hicmae_cls_head.py: {name} layers must be {depth} '
                f'tensors (B, N, C) or one (B, N, {depth}, C) tensor, got {tuple(layers.shape)}.')
        pooled = layers.mean(dim=1)  # (B, L, C): token mean of every layer
        return torch.sum(pooled * F.softmax(weights, dim=0).view(1, -1, 1), dim=1)

    def forward_features(self, video_layers: Layers, audio_layers: Layers,
                         fused_video: torch.Tensor, fused_audio: torch.Tensor) -> torch.Tensor:
        """Pooled clip feature after ``fc_norm``: ``(B, 2 * (video_dim + audio_dim))``.

        Args:
            video_layers (Tensor | Sequence[Tensor]): ``video_depth`` normalised block outputs
                ``(B, Nv, Cv)`` (or stacked ``(B, Nv, L, Cv)``).
            audio_layers (Tensor | Sequence[Tensor]): Same for audio.
            fused_video (Tensor): Fusion encoder video output ``(B, Nv, Cv)``.
            fused_audio (Tensor): Fusion encoder audio output ``(B, Na, Ca)``.
        """
        video_feature = self._layer_pool(video_layers, self.video_layer_weights,
                                         self.video_depth, 'video')
        audio_feature = self._layer_pool(audio_layers, self.audio_layer_weights,
                                         self.audio_depth, 'audio')
        feat = torch.cat(
            [video_feature, audio_feature,
             fused_video.mean(dim=1), fused_audio.mean(dim=1)], dim=-1)
        return self.fc_norm(feat)

    def forward(self, video_layers: Layers, audio_layers: Layers, fused_video: torch.Tensor,
                fused_audio: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, num_classes)``; arguments as in :meth:`forward_features`."""
        feat = self.forward_features(video_layers, audio_layers, fused_video, fused_audio)
        return self.fc(self.dropout(feat))

    def loss(self, logits: torch.Tensor,
             data_samples: List[AVDataSample]) -> Dict[str, torch.Tensor]:
        """Cross-entropy against ``gt_label`` (``-1`` = unlabeled, ignored).

        Args:
            logits (Tensor): ``(B, num_classes)``.
            data_samples (list[AVDataSample]): Samples with ``gt_label``.

        Returns:
            dict: ``loss_cls``.
        """
        labels = stack_gt_labels(data_samples, logits.device)
        if bool((labels < 0).all()):
            loss = logits.sum() * 0.
        else:
            loss = F.cross_entropy(logits, labels, ignore_index=-1,
                                   label_smoothing=self.label_smoothing)
        return dict(loss_cls=self.loss_weight * loss)
