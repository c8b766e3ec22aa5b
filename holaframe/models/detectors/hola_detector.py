"""The HOLA audio-visual deepfake detector (Stage 2 of the paper)."""

from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel

from holaframe.models.heads.hicmae_cls_head import HiCMAEClsHead
from holaframe.models.postprocessors import SegmentPostProcessor
from holaframe.registry import MODELS
from holaframe.structures import AVDataSample

from .whole_video import (
    check_test_window,
    has_audio_mask,
    set_whole_video_predictions,
    stitch_windows,
    window_starts,
)

ModuleCfg = Optional[Union[dict, nn.Module]]
PREDICT_SOURCES = ('head', 'aux', 'mean')


def _build(cfg: ModuleCfg) -> Optional[nn.Module]:
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    return MODELS.build(cfg)


@MODELS.register_module()
class HOLADetector(BaseModel):
    """Encoders, optional HiCMAE fusion encoder, neck, ICI, LGCF, refiner and heads.

    Data flow (every stage after the encoders is optional, so the Table 3 ablation rows are
    component swaps):

    1. ``video_encoder(video)``, ``audio_encoder(audio)`` -> tokens ``(B, N, C)``; the audio
       tokens of silent clips (``has_audio`` False) are set to zero.
    2. ``fusion_encoder(v, a)``: HiCMAE's pre-trained cross/self-attention fusion.
    3. ``neck``: temporal alignment to ``(B, L, C)`` per modality (Sec. 3.2.2).
    4. ``interaction``: ICI, Eq. (8)-(10).
    5. ``fusion``: LGCF, Eq. (11) -> ``F_f`` ``(B, 2L, C)``; without it the two aligned
       streams are concatenated along the sequence.
    6. ``refiner``: pyramid refiner, Eq. (12)-(13) -> ``(B, C)``; without it, the mean over the
       ``2L`` positions.
    7. ``head``: logits ``(B, 2)`` with cross-entropy. With
       :class:`~holaframe.models.heads.HiCMAEClsHead` (the "pre-trained baseline") the head reads
       every encoder layer and the fusion encoder's streams instead, and stages 3-6 must be
       absent.
    8. ``aux_head`` (opt-in, uses segment labels): frame logits from ``F_f``, pooled to a clip
       logit; ``predict_source`` picks the clip score: ``'head'``, ``'aux'`` or ``'mean'`` (the
       mean of the two probabilities).
    9. ``loc_head`` (opt-in, uses segment labels): per-position fake probability and distances
       to the segment boundaries from ``F_f``
       (:class:`~holaframe.models.heads.LocalizationHead`); at prediction ``post_processor``
       (:class:`~holaframe.models.postprocessors.SegmentPostProcessor` by default) turns them
       into ``pred_segments`` ``(N, 3)`` rows ``[confidence, start_s, end_s]``.

    Whole-video prediction (``test_window``): a clip longer than ``clip_len`` frames is cut
    into windows of ``clip_len`` frames every ``stride`` frames (the last window ends at the
    last frame), scored as one batch (``max_batch`` windows at a time) and stitched: each
    frame's probability and boundary distances are the mean over the windows that hold it, and
    the clip score (``pred_score``) is the maximum (``video_score='max'``) or mean of the
    windows' scores. The audio must have one row per video frame (per-frame log-mel or MFCC
    segments aligned with the frames). With a frame-level head the sample also gets
    ``pred_frame_scores`` and ``pred_frame_times`` (seconds) over the clip's real frames
    (padding of a clip shorter than a window left out). Training is unchanged (one window per
    sample, from the data pipeline).

    Training the heads jointly or separately is a matter of loss weights: ``ClsHead``'s
    ``loss_weight``, ``LocalizationHead``'s ``cls_loss_weight`` / ``reg_loss_weight``; the
    localisation losses are computed only for samples that carry ``loc_targets``.

    Args:
        video_encoder (dict | nn.Module): Video encoder, ``forward(x) -> (B, N, C)``.
        audio_encoder (dict | nn.Module): Audio encoder.
        head (dict | nn.Module): Classification head with ``loss(logits, data_samples)``.
        fusion_encoder (dict | nn.Module, optional): HiCMAE fusion encoder.
        neck (dict | nn.Module, optional): Temporal alignment neck.
        interaction (dict | nn.Module, optional): Cross-modal interaction (ICI).
        fusion (dict | nn.Module, optional): Local-global contextual fusion (LGCF).
        refiner (dict | nn.Module, optional): Pyramid refiner.
        aux_head (dict | nn.Module, optional): Frame-level auxiliary head.
        loc_head (dict | nn.Module, optional): Temporal localisation head.
        post_processor (dict, optional): Segment post-processor of ``loc_head``'s outputs;
            defaults to ``SegmentPostProcessor()``.
        test_window (dict, optional): ``clip_len`` and ``stride`` (frames), optional
            ``max_batch`` (default 8) and ``video_score`` (``'max'`` or ``'mean'``) of the
            whole-video prediction; None scores the input as one window.
        predict_source (str): Clip score source. Defaults to ``'head'``.
        data_preprocessor (dict | nn.Module, optional): Defaults to ``AVDataPreprocessor``.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self, video_encoder: ModuleCfg, audio_encoder: ModuleCfg, head: ModuleCfg,
                 fusion_encoder: ModuleCfg = None, neck: ModuleCfg = None,
                 interaction: ModuleCfg = None, fusion: ModuleCfg = None,
                 refiner: ModuleCfg = None, aux_head: ModuleCfg = None,
                 predict_source: str = 'head', data_preprocessor: ModuleCfg = None,
                 loc_head: ModuleCfg = None, post_processor: Optional[dict] = None,
                 test_window: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        data_preprocessor = _build(data_preprocessor or dict(type='AVDataPreprocessor'))
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.video_encoder = _build(video_encoder)
        self.audio_encoder = _build(audio_encoder)
        self.fusion_encoder = _build(fusion_encoder)
        self.neck = _build(neck)
        self.interaction = _build(interaction)
        self.fusion = _build(fusion)
        self.refiner = _build(refiner)
        self.head = _build(head)
        self.aux_head = _build(aux_head)
        self.loc_head = _build(loc_head)
        if isinstance(post_processor, dict):
            post_processor = MODELS.build(post_processor)
        self.post_processor = post_processor or SegmentPostProcessor()
        self.test_window = check_test_window(test_window)
        self.hicmae_head = isinstance(self.head, HiCMAEClsHead)
        if self.hicmae_head:
            if self.fusion_encoder is None:
                raise ValueError('hola_detector.py: HiCMAEClsHead needs a fusion_encoder')
            extra = [n for n in ('neck', 'interaction', 'fusion', 'refiner', 'aux_head',
                                 'loc_head')
                     if getattr(self, n) is not None]
            if extra:
                raise ValueError(f'hola_detector.py: HiCMAEClsHead reads the encoders directly; '
                                 f'remove {extra}')
        elif self.neck is None and (self.interaction is not None or self.fusion is not None
                                    or self.refiner is not None or self.aux_head is not None
                                    or self.loc_head is not None):
            raise ValueError('hola_detector.py: interaction, fusion, refiner, aux_head and '
                             'loc_head need a neck that aligns both modalities to (B, L, C)')
        if predict_source not in PREDICT_SOURCES:
            raise ValueError(f'hola_detector.py: predict_source must be one of '
                             f'{PREDICT_SOURCES}, got {predict_source!r}')
        if predict_source != 'head' and self.aux_head is None:
            raise ValueError(f'hola_detector.py: predict_source={predict_source!r} needs an '
                             f'aux_head')
        self.predict_source = predict_source

    def extract_feat(self, inputs: dict) -> Dict[str, torch.Tensor]:
        """Run every stage up to (not including) the heads.

        Args:
            inputs (dict): ``video`` ``(B, C, T, H, W)``, ``audio`` and optional ``has_audio``.

        Returns:
            dict: ``logits`` (from ``head``) and, with a neck, ``fused`` ``(B, 2L, C)`` and
            ``aligned`` (the neck outputs ``F_v, F_a``).
        """
        video, audio = inputs['video'], inputs['audio']
        has_audio = has_audio_mask(inputs, video.shape[0], video.device)
        keep = has_audio.to(video.dtype).view(-1, 1, 1)
        if self.hicmae_head:
            v, v_layers = self.video_encoder(video, out_indices='all')
            a, a_layers = self.audio_encoder(audio, out_indices='all')
            a = a * keep
            a_layers = [x * keep for x in a_layers]
            fv, fa = self.fusion_encoder(v, a)
            return dict(logits=self.head(v_layers, a_layers, fv, fa))
        v = self.video_encoder(video)
        a = self.audio_encoder(audio) * keep
        if self.fusion_encoder is not None:
            v, a = self.fusion_encoder(v, a)
        if self.neck is None:  # head on the mean tokens of both streams
            return dict(logits=self.head(torch.cat([v.mean(1), a.mean(1)], dim=-1)))
        f_v, f_a = self.neck(v, a, has_audio=has_audio)
        aligned = (f_v, f_a)
        if self.interaction is not None:
            f_v, f_a = self.interaction(f_v, f_a, has_audio=has_audio)
        if self.fusion is not None:
            fused = self.fusion(f_v, f_a)
        else:
            fused = torch.cat([f_v, f_a], dim=1)
        clip = self.refiner(fused) if self.refiner is not None else fused.mean(dim=1)
        return dict(logits=self.head(clip), fused=fused, aligned=aligned)

    def _outputs(self, inputs: dict) -> Dict[str, torch.Tensor]:
        out = self.extract_feat(inputs)
        if self.aux_head is not None:
            out['frame_logits'] = self.aux_head(out['fused'], aligned=out['aligned'])
        if self.loc_head is not None:
            out['loc'] = self.loc_head(out['fused'], aligned=out['aligned'])
        return out

    def _clip_logits(self, out: Dict[str, torch.Tensor]) -> torch.Tensor:
        """Two-class logits whose softmax is the clip probability chosen by predict_source."""
        if self.predict_source == 'head':
            return out['logits']
        z = self.aux_head.pool(out['frame_logits'])
        if self.predict_source == 'aux':
            return torch.stack([torch.zeros_like(z), z], dim=-1)  # softmax -> sigmoid(z)
        p_fake = 0.5 * (out['logits'].softmax(-1)[:, 1] + torch.sigmoid(z))
        p = torch.stack([1 - p_fake, p_fake], dim=-1).clamp_min(1e-12)
        return p.log()

    def forward(self, inputs: dict, data_samples: Optional[List[AVDataSample]] = None,
                mode: str = 'tensor'):
        """Dispatch on ``mode``.

        Args:
            inputs (dict): Output of the data preprocessor.
            data_samples (list[AVDataSample], optional): Annotations.
            mode (str): ``'tensor'`` (logits ``(B, 2)``; for an input longer than
                ``test_window``'s ``clip_len``, the log-probabilities of the whole-video score),
                ``'loss'`` (dict of losses) or
                ``'predict'`` (list of :class:`AVDataSample` with ``pred_score`` and
                ``pred_label``).
        """
        if mode == 'tensor':
            if (self.test_window is not None
                    and inputs['video'].shape[2] > self.test_window['clip_len']):
                # A whole video: log-probabilities of the windows' video score.
                p = self._stitched_outputs(inputs)['clip'].clamp(1e-6, 1 - 1e-6)
                return torch.stack([1 - p, p], dim=-1).log()
            return self._clip_logits(self._outputs(inputs))
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise ValueError(f'hola_detector.py: invalid mode {mode!r}; use tensor, loss or predict')

    def loss(self, inputs: dict, data_samples: List[AVDataSample]) -> Dict[str, torch.Tensor]:
        """Losses of the head (``loss_cls``), of the auxiliary head and of the localisation
        head (``loss_loc_cls``, ``loss_loc_reg``), if any."""
        if data_samples is None:
            raise ValueError('hola_detector.py: mode="loss" needs data_samples with gt_label')
        out = self._outputs(inputs)
        losses = dict(self.head.loss(out['logits'], data_samples))
        if self.aux_head is not None:
            losses.update(self.aux_head.loss(out['frame_logits'], data_samples))
        if self.loc_head is not None:
            losses.update(self.loc_head.loss(out['loc'], data_samples))
        return losses

    @torch.no_grad()
    def predict(self, inputs: dict, data_samples: Optional[List[AVDataSample]] = None
                ) -> List[AVDataSample]:
        """Fake probability (``pred_score``) and class (``pred_label``) per clip; with a
        localisation head or ``test_window`` see :meth:`predict_whole`."""
        if self.test_window is not None or self.loc_head is not None:
            return self.predict_whole(inputs, data_samples)
        probs = F.softmax(self._clip_logits(self._outputs(inputs)), dim=-1)
        if data_samples is None:
            data_samples = [AVDataSample() for _ in range(probs.shape[0])]
        for sample, prob in zip(data_samples, probs):
            sample.set_pred_score(prob[1])
            sample.set_pred_label(prob.argmax())
        return data_samples

    # ------------------------------------------------------------------ whole-video prediction
    def _window_outputs(self, inputs: dict) -> Dict[str, torch.Tensor]:
        """Clip probability ``(B,)`` and, with a frame-level head, per-frame probability
        ``(B, T)`` and boundary distances in frames ``(B, T, 2)`` of one window."""
        out = self._outputs(inputs)
        res = dict(clip=F.softmax(self._clip_logits(out), dim=-1)[:, 1])
        num_frames = inputs['video'].shape[2]
        if self.loc_head is not None:
            probs = torch.sigmoid(out['loc']['cls_logits'])
            offsets = out['loc']['offsets']
        elif self.aux_head is not None:
            probs, offsets = torch.sigmoid(out['frame_logits']), None
        else:
            return res
        length = probs.shape[1]
        if length != num_frames:  # positions -> frames
            probs = F.interpolate(probs[:, None], size=num_frames, mode='linear',
                                  align_corners=False)[:, 0]
            if offsets is not None:
                offsets = F.interpolate(offsets.transpose(1, 2), size=num_frames,
                                        mode='linear', align_corners=False).transpose(1, 2)
                offsets = offsets * (num_frames / length)
        res['frames'] = probs
        if offsets is not None:
            res['offsets'] = offsets
        return res

    @property
    def predicts_segments(self) -> bool:
        """Whether ``predict`` gives ``pred_segments`` (a localisation head)."""
        return self.loc_head is not None

    def window_starts(self, num_frames: int) -> List[int]:
        """First frame of each test window of a clip of ``num_frames`` frames."""
        return window_starts(num_frames, self.test_window)

    def _stitched_outputs(self, inputs: dict) -> Dict[str, torch.Tensor]:
        """Window outputs of a whole clip, stitched (:func:`~.whole_video.stitch_windows`)."""
        return stitch_windows(inputs, self.test_window, self._window_outputs)

    def predict_whole(self, inputs: dict, data_samples: Optional[List[AVDataSample]] = None
                      ) -> List[AVDataSample]:
        """Whole-clip prediction: ``pred_score``, ``pred_label`` and, with a frame-level head,
        ``pred_frame_scores`` / ``pred_frame_times``; with ``loc_head`` also ``pred_segments``.

        Frame times are the centres ``(frame_index + 0.5) / fps`` of the frames in the
        metainfo's ``frame_inds`` (``avg_fps``, default 25); the clip's duration, to which the
        segments are clipped, is ``num_frames / fps`` (the decoded clip's frame count).
        """
        return set_whole_video_predictions(self._stitched_outputs(inputs), data_samples,
                                           self.post_processor)
