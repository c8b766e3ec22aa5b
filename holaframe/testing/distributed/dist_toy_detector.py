"""``DistToyDetector``: a tiny deterministic detector with the detector forward modes."""

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel

from holaframe.registry import MODELS


@MODELS.register_module()
class DistToyDetector(BaseModel):
    """Two-layer MLP over the flattened video and audio; detector forward modes.

    Args:
        video_numel (int): Elements of one clip's video.
        audio_numel (int): Elements of one clip's audio.
        data_preprocessor (dict, optional): Data preprocessor config.
    """

    def __init__(self, video_numel: int = 96, audio_numel: int = 16,
                 data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        torch.manual_seed(0)
        self.fc1 = nn.Linear(video_numel + audio_numel, 16)
        self.norm = nn.LayerNorm(16)
        self.fc2 = nn.Linear(16, 2)

    def forward(self, inputs: dict, data_samples: Optional[list] = None, mode: str = 'tensor'):
        """``tensor``: logits ``(B, 2)``; ``loss``: ``loss_cls``; ``predict``: scored samples."""
        video, audio = inputs['video'], inputs['audio']
        x = torch.cat([video.flatten(1) / 255.0, audio.flatten(1)], dim=1)
        logits = self.fc2(torch.relu(self.norm(self.fc1(x))))
        if mode == 'tensor':
            return logits
        labels = torch.cat([s.gt_label for s in data_samples]).to(logits.device)
        if mode == 'loss':
            return dict(loss_cls=F.cross_entropy(logits.float(), labels))
        scores = logits.float().softmax(-1)[:, 1]
        for sample, score in zip(data_samples, scores):
            sample.pred_score = score.detach()
            sample.pred_label = (score >= 0.5).long().detach()
        return data_samples
