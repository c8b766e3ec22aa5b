"""HOLA with one modality: the audio-only and video-only ablations."""

from typing import Dict, Optional

import torch
import torch.nn as nn

from holaframe.registry import MODELS

from .hola_detector import HOLADetector, ModuleCfg

MODALITIES = ('audio', 'video')


@MODELS.register_module()
class HOLASingleModalityDetector(HOLADetector):
    """HOLA's pipeline on one modality: the single-modality ablation of the detector.

    Takes a HOLA model config (so an ablation config is the HOLA config plus ``type`` and
    ``modality``) and keeps the stages that do not mix the modalities:
    ``encoder -> neck (that modality's aligner + positions) -> LGCF over the L tokens of the one
    stream (CLS transformer and Eq. 11 gate) -> pyramid refiner (Eq. 12-13) -> head``. The
    cross-modal stages are dropped: the other modality's encoder and aligner, the HiCMAE fusion
    encoder and ICI (Eq. 8-10). ``has_audio`` is not used by the video branch; the audio branch
    sees the zeros the data preprocessor puts in for silent clips.

    Args:
        modality (str): ``'audio'`` or ``'video'``.
        video_encoder, audio_encoder, head, fusion_encoder, neck, interaction, fusion, refiner,
        data_preprocessor, init_cfg: As :class:`HOLADetector` (``fusion_encoder`` and
            ``interaction`` are accepted and ignored).
    """

    def __init__(self, modality: str, video_encoder: ModuleCfg, audio_encoder: ModuleCfg,
                 head: ModuleCfg, neck: ModuleCfg, fusion_encoder: ModuleCfg = None,
                 interaction: ModuleCfg = None, fusion: ModuleCfg = None,
                 refiner: ModuleCfg = None, data_preprocessor: ModuleCfg = None,
                 init_cfg: Optional[dict] = None) -> None:
        if modality not in MODALITIES:
            raise ValueError(f'hola_single_modality_detector.py: modality must be one of '
                             f'{MODALITIES}, got {modality!r}')
        if neck is None:
            raise ValueError('hola_single_modality_detector.py: needs the neck (it aligns the '
                             'kept modality to (B, L, C))')
        super().__init__(
            video_encoder=video_encoder if modality == 'video' else None,
            audio_encoder=audio_encoder if modality == 'audio' else None,
            head=head, neck=neck, fusion=fusion, refiner=refiner,
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.modality = modality
        other = 'audio' if modality == 'video' else 'video'
        setattr(self.neck, other, None)  # the other modality's aligner is not used
        if getattr(self.fusion, 'rel_pos_distance', None) is not None:
            raise ValueError('hola_single_modality_detector.py: LGCF with rel_pos_distance '
                             'needs both streams; use rel_pos_distance=None')

    def extract_feat(self, inputs: dict) -> Dict[str, torch.Tensor]:
        """Encoder, aligner, LGCF and refiner of the one modality.

        Args:
            inputs (dict): ``video`` or ``audio`` (whichever ``modality`` names).

        Returns:
            dict: ``logits`` ``(B, 2)`` and ``fused`` ``(B, L, C)``.
        """
        if self.modality == 'video':
            tokens = self.video_encoder(inputs['video'])
            aligner: nn.Module = self.neck.video
        else:
            tokens = self.audio_encoder(inputs['audio'])
            aligner = self.neck.audio
        f = aligner(tokens)
        if self.neck.add_pos_embed:
            f = f + self.neck.pos_embed[:, :f.shape[1]].to(dtype=f.dtype)
        fused = self.fusion(f, f[:, :0]) if self.fusion is not None else f
        clip = self.refiner(fused) if self.refiner is not None else fused.mean(dim=1)
        return dict(logits=self.head(clip), fused=fused)
