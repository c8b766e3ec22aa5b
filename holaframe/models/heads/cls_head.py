"""Linear classification head with cross-entropy (HOLA Sec. 3.2.5)."""

from typing import Dict, List

import torch
import torch.nn as nn
import torch.nn.functional as F

from holaframe.registry import MODELS
from holaframe.structures import AVDataSample


def stack_gt_labels(data_samples: List[AVDataSample], device: torch.device,
                    from_frames: bool = False) -> torch.Tensor:
    """Stack the ``gt_label`` of each sample into a LongTensor ``(B,)`` (-1 = unlabeled).

    Args:
        data_samples (list[AVDataSample]): Samples carrying ``gt_label``.
        device (torch.device): Device of the result.
        from_frames (bool): For labelled samples that carry ``frame_labels`` (the per-frame
            fake mask of the sampled window), use the label of the window instead of the clip:
            1 iff any of its frames is fake. A training window of a fake clip that misses the
            fake segment is then real, which it is. Uses segment labels.
    """
    labels = []
    for i, sample in enumerate(data_samples):
        if 'gt_label' not in sample:
            raise KeyError(f'cls_head.py: data sample {i} has no gt_label; the loss needs one')
        label = sample.gt_label.reshape(-1)[0]
        if from_frames and 'frame_labels' in sample and int(label) >= 0:
            label = (torch.as_tensor(sample.frame_labels) > 0).any().to(label.dtype)
        labels.append(label)
    return torch.stack(labels).to(device=device, dtype=torch.long)


@MODELS.register_module()
class ClsHead(nn.Module):
    """Two-class classifier on a pooled clip feature, trained with cross-entropy.

    Args:
        in_channels (int): Width of the clip feature (``F_sf``).
        num_classes (int): Number of classes. Defaults to 2 (real, fake).
        dropout (float): Dropout before the linear layer. Defaults to 0.
        loss_weight (float): Weight of ``loss_cls``. Defaults to 1.
        label_smoothing (float): Cross-entropy label smoothing. Defaults to 0.
        window_label (bool): Train on the label of the sampled window (1 iff one of its
            ``frame_labels`` is fake) where a sample has ``frame_labels``, instead of the clip's
            ``gt_label``. Segment labels; only for configs that already use them.
            Defaults to False.
    """

    def __init__(self, in_channels: int, num_classes: int = 2, dropout: float = 0.0,
                 loss_weight: float = 1.0, label_smoothing: float = 0.0,
                 window_label: bool = False) -> None:
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_channels, num_classes)
        self.loss_weight = loss_weight
        self.label_smoothing = label_smoothing
        self.window_label = window_label

    def forward(self, feats: torch.Tensor) -> torch.Tensor:
        """Args:
            feats (Tensor): Clip features ``(B, in_channels)``.

        Returns:
            Tensor: Logits ``(B, num_classes)``.
        """
        return self.fc(self.dropout(feats))

    def loss(self, logits: torch.Tensor, data_samples: List[AVDataSample]
             ) -> Dict[str, torch.Tensor]:
        """Cross-entropy of the logits against ``gt_label`` (unlabeled samples ignored).

        Args:
            logits (Tensor): ``(B, num_classes)``.
            data_samples (list[AVDataSample]): Samples with ``gt_label`` (and ``frame_labels``
                with ``window_label``).
        """
        labels = stack_gt_labels(data_samples, logits.device, from_frames=self.window_label)
        if bool((labels < 0).all()):
            loss = logits.sum() * 0.0
        else:
            loss = F.cross_entropy(logits, labels, ignore_index=-1,
                                   label_smoothing=self.label_smoothing)
        return dict(loss_cls=self.loss_weight * loss)
