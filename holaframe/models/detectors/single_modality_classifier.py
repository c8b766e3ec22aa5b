"""A classifier that reads one modality: the Table 1 expert models."""

from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel

from holaframe.registry import MODELS
from holaframe.structures import AVDataSample

ModuleCfg = Optional[Union[dict, nn.Module]]
MODALITIES = ('audio', 'video')


def _build(cfg: ModuleCfg) -> Optional[nn.Module]:
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    return MODELS.build(cfg)


@MODELS.register_module()
class SingleModalityClassifier(BaseModel):
    """``head(backbone(inputs[modality]))``: an audio-only or video-only deepfake classifier.

    The expert models of the paper's Table 1 (ECAPA-TDNN, Res2Net, CAM++, ResNet-SE, PANNs CNN14
    on audio; I3D, C3D, Video Swin-T, TimeSformer on video) are backbones that map one input
    of the ``AVDataPreprocessor`` output (``video`` ``(B, C, T, H, W)`` or ``audio``, e.g.
    ``AudioFbank``'s ``(B, 1, T, F)``) to a clip feature ``(B, C')``; the head (``ClsHead``)
    gives two-class logits trained with cross-entropy on the clip label. Same ``forward(mode)``
    contract and prediction fields as :class:`~holaframe.models.detectors.HOLADetector`, so
    the same configs, metrics and tools apply.

    Args:
        backbone (dict | nn.Module): Backbone with ``forward(x) -> (B, C')``.
        head (dict | nn.Module): Head with ``forward(feats)`` and ``loss(logits, samples)``;
            a dict without ``in_channels`` gets the backbone's ``out_channels``.
        modality (str): ``'audio'`` or ``'video'``.
        data_preprocessor (dict | nn.Module, optional): Defaults to ``AVDataPreprocessor``.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self, backbone: ModuleCfg, head: ModuleCfg, modality: str,
                 data_preprocessor: ModuleCfg = None, init_cfg: Optional[dict] = None) -> None:
        if modality not in MODALITIES:
            raise ValueError(f'single_modality_classifier.py: modality must be one of '
                             f'{MODALITIES}, got {modality!r}')
        data_preprocessor = _build(data_preprocessor or dict(type='AVDataPreprocessor'))
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.modality = modality
        self.backbone = _build(backbone)
        if isinstance(head, dict) and 'in_channels' not in head:
            head = dict(head, in_channels=self.backbone.out_channels)
        self.head = _build(head)

    def extract_feat(self, inputs: dict) -> torch.Tensor:
        """Clip features ``(B, C')`` of the chosen modality.

        Args:
            inputs (dict): Output of the data preprocessor.
        """
        if self.modality not in inputs:
            raise KeyError(f'single_modality_classifier.py: inputs has no {self.modality!r} '
                           f'entry (keys: {sorted(inputs)})')
        return self.backbone(inputs[self.modality])

    def forward(self, inputs: dict, data_samples: Optional[List[AVDataSample]] = None,
                mode: str = 'tensor'):
        """Dispatch on ``mode``: ``'tensor'`` (logits ``(B, 2)``), ``'loss'`` or ``'predict'``.

        Args:
            inputs (dict): Output of the data preprocessor.
            data_samples (list[AVDataSample], optional): Annotations.
            mode (str): ``'tensor'``, ``'loss'`` or ``'predict'``.
        """
        if mode == 'tensor':
            return self.head(self.extract_feat(inputs))
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise ValueError(f'single_modality_classifier.py: invalid mode {mode!r}; use tensor, '
                         f'loss or predict')

    def loss(self, inputs: dict, data_samples: List[AVDataSample]) -> Dict[str, torch.Tensor]:
        """Cross-entropy of the head (``loss_cls``)."""
        if data_samples is None:
            raise ValueError('single_modality_classifier.py: mode="loss" needs data_samples '
                             'with gt_label')
        return dict(self.head.loss(self.head(self.extract_feat(inputs)), data_samples))

    @torch.no_grad()
    def predict(self, inputs: dict, data_samples: Optional[List[AVDataSample]] = None
                ) -> List[AVDataSample]:
        """Fake probability (``pred_score``) and class (``pred_label``) per clip."""
        probs = F.softmax(self.head(self.extract_feat(inputs)), dim=-1)
        if data_samples is None:
            data_samples = [AVDataSample() for _ in range(probs.shape[0])]
        for sample, prob in zip(data_samples, probs):
            sample.set_pred_score(prob[1])
            sample.set_pred_label(prob.argmax())
        return data_samples
