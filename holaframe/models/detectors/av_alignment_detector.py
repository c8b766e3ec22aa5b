"""A detector trained on real videos only: fakes are where audio and video stop matching."""

import math
from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModel

from holaframe.registry import MODELS
from holaframe.structures import AVDataSample

from ..heads.cls_head import stack_gt_labels
from .whole_video import has_audio_mask, set_whole_video_predictions

ModuleCfg = Optional[Union[dict, nn.Module]]

__all__ = ['AVAlignmentDetector']


def _build(cfg: ModuleCfg) -> Optional[nn.Module]:
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    return MODELS.build(cfg)


def _context(dim: int, out_dim: int, layers: int, kernel_size: int) -> nn.Sequential:
    """Temporal convolutions over per-frame tokens ``(B, D, T)``, then a projection."""
    mods: List[nn.Module] = []
    for _ in range(layers):
        mods += [nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2), nn.GELU()]
    mods.append(nn.Conv1d(dim, out_dim, 1))
    return nn.Sequential(*mods)


def offset_logits(query: torch.Tensor, keys: torch.Tensor, max_offset: int,
                  temperature: float) -> torch.Tensor:
    """Similarities of each query frame to the key frames at offsets ``-K..K``.

    Args:
        query: ``(B, T, E)``, L2-normalised.
        keys: ``(B, T, E)``, L2-normalised.
        max_offset: ``K``.
        temperature: Divides the cosine similarities.

    Returns:
        ``(B, T, 2K + 1)``: entry ``[b, t, K + k]`` is ``<q_t, k_{t+k}> / tau``, ``-inf`` where
        ``t + k`` is outside the clip. Column ``K`` (offset 0) is the aligned pair.
    """
    b, t, e = query.shape
    k = max_offset
    padded = F.pad(keys, (0, 0, k, k))  # (B, T + 2K, E)
    windows = padded.unfold(1, 2 * k + 1, 1)  # (B, T, E, 2K + 1)
    logits = torch.einsum('bte,btek->btk', query, windows) / temperature
    pos = torch.arange(t, device=query.device)[:, None] + torch.arange(-k, k + 1,
                                                                       device=query.device)
    valid = (pos >= 0) & (pos < t)
    return logits.masked_fill(~valid[None], float('-inf'))


def lag_profile(sims: torch.Tensor) -> torch.Tensor:
    """A clip's mean agreement at each offset: ``(B, T, 2K + 1)`` from :func:`offset_logits`
    (``-inf`` outside the clip) -> ``(B, 2K + 1)``, the mean over the frames that have a
    partner at that offset."""
    valid = torch.isfinite(sims)
    return sims.masked_fill(~valid, 0.0).sum(1) / valid.sum(1).clamp_min(1)


@MODELS.register_module()
class AVAlignmentDetector(BaseModel):
    """Audio-visual alignment learnt from real clips only, in the manner of AVH-Align.

    AVH-Align (Smeu et al., CVPR 2025) trains an alignment network on real videos only and scores
    a video by how badly its audio and video agree: nothing about any forgery generator is
    learnt, because no fake is seen. Here per-frame video tokens ``v_t`` (e.g. ``FrameConvStem``
    on mouth crops) and audio tokens ``a_t`` (e.g. ``FrameAudioEncoder`` on per-frame log-mel)
    get a few temporal convolutions each and are projected to unit vectors ``z^v_t, z^a_t``.

    * **Training** (real clips with audio only; fakes and silent clips are ignored, so the
      labels only select the real clips): for each frame, InfoNCE over the other modality's
      frames at offsets ``-K..K`` of the same clip, the aligned one being the positive, in both
      directions::

          p^{va}_t = softmax_k(<z^v_t, z^a_{t+k}> / tau)[k=0],  likewise p^{av}_t
          L = -mean_t (log p^{va}_t + log p^{av}_t) / 2

      With a ``tolerance`` ``d > 0`` every offset ``|k| <= d`` is a positive (the probability
      of the set, ``sum_{|k|<=d} softmax_k(...)``), and only offsets beyond ``d`` are
      negatives: real recordings and renderers put the mouth up to a frame or two ahead of or
      behind its sound (visual speech leads by about 40 ms), and a model that learns one
      source's exact lag calls another source's real clips misaligned.

    * **Scoring** (``score='similarity'``, the default): the disagreement
      ``m_t = -<z^v_t, z^a_t>`` of the aligned pair (with a ``tolerance`` ``d``, of the best
      pair within it, ``m_t = -max_{|k|<=d} <z^v_t, z^a_{t+k}>``; with a ``sync_search``
      ``S``, of the pairs at the clip's own lag ``k* = argmax_{|k|<=S} mean_t <z^v_t,
      z^a_{t+k}>``, found first as SyncNet does, ``m_t = -<z^v_t, z^a_{t+k*}>``), averaged over
      ``smooth`` frames; with
      ``relative`` the clip's median of ``m_t`` is subtracted, so a clip is judged against its
      own level of agreement (a generator whose lip sync is looser everywhere does not make
      every clip fake; a word-level edit stands out locally). ``score='infonce'`` uses the
      training loss itself, ``m_t = -(log p^{va}_t + log p^{av}_t) / 2``, instead: it is also
      high in pauses, where silence and a closed mouth look alike at every offset, and ranked
      the fakes of the cartoon val set worse (AUC 0.79 against 0.96 for the similarity, same
      checkpoint; docs/generalisation.md).
      The statistic is standardised with the mean and standard deviation of the clips' maxima
      on the real training clips (running averages kept in buffers) and turned into a
      probability: ``frames_t = sigmoid((s_t - mu) / sigma - margin)``, the clip's score
      being the largest. A clip without audio scores ``sigmoid(-margin)``, the level of a typical
      real clip: alignment says nothing about it.

    Args:
        video_encoder (dict | nn.Module): ``(B, C, T, H, W) -> (B, T, D)``.
        audio_encoder (dict | nn.Module): ``(B, T, F) -> (B, T, D)``.
        embed_dim (int): ``D``.
        proj_dim (int): Width of the alignment space.
        context_layers (int): Temporal convolutions per modality.
        kernel_size (int): Their kernel (frames).
        max_offset (int): ``K``, negatives at offsets up to ``K`` frames (0 excluded).
        tolerance (int): ``d``, offsets counted as aligned (0: only the same frame); less
            than ``max_offset``.
        sync_search (int): ``S``, the largest lag (frames) searched for each clip before
            scoring (0: none). A constant lag between mouth and sound differs from one source
            (camera, encoder, renderer) to the next; the search measures every clip at its
            own, and only the training of the model is at lag 0. Not with ``tolerance``.
        temperature (float): ``tau``.
        smooth (int): Frames averaged in the misalignment (odd).
        score (str): ``'similarity'`` or ``'infonce'`` (above).
        video_norm (str, optional): ``'temporal'``: the frames are turned to grey, the clip's
            mean image is subtracted and the result divided by its standard deviation before
            the video encoder (whose ``in_channels`` must then be 1): what stays is how the
            mouth moves, not what it looks like (face, colour, lighting, renderer). None
            (default) feeds the frames as they are.
        audio_envelope_bands (int, optional): Reduce each frame's audio features, ``group``
            stacked log-mel frames of this many bands (``AudioFrameLogMel(reduce='stack')``),
            to their means over the bands, a loudness envelope of ``group`` values per frame,
            standardised over the clip (the audio encoder's ``in_channels`` is then ``group``):
            the timing of speech without its voice, room or synthesiser. None (default) keeps
            the full spectrum.
        relative (bool): Subtract the clip's median misalignment.
        margin (float): Standard deviations above the real clips' mean that score 0.5.
        calib_momentum (float): Momentum of the running statistics of real clips.
        data_preprocessor (dict | nn.Module, optional): Defaults to ``AVDataPreprocessor``.
        init_cfg (dict, optional): MMEngine initialisation config.
    """

    def __init__(self, video_encoder: ModuleCfg, audio_encoder: ModuleCfg, embed_dim: int = 64,
                 proj_dim: int = 64, context_layers: int = 2, kernel_size: int = 5,
                 max_offset: int = 8, tolerance: int = 0, sync_search: int = 0,
                 temperature: float = 0.1, smooth: int = 5,
                 score: str = 'similarity', relative: bool = True, margin: float = 2.0,
                 calib_momentum: float = 0.05, video_norm: Optional[str] = None,
                 audio_envelope_bands: Optional[int] = None,
                 data_preprocessor: ModuleCfg = None, init_cfg: Optional[dict] = None) -> None:
        if max_offset < 1:
            raise ValueError(f'av_alignment_detector.py: max_offset must be >= 1, got '
                             f'{max_offset}')
        if not 0 <= tolerance < max_offset:
            raise ValueError(f'av_alignment_detector.py: tolerance must be in 0..max_offset-1 '
                             f'({max_offset - 1}), got {tolerance}')
        if sync_search < 0 or (sync_search and tolerance):
            raise ValueError(f'av_alignment_detector.py: sync_search must be >= 0 and not '
                             f'combined with a tolerance, got sync_search={sync_search}, '
                             f'tolerance={tolerance}')
        if smooth < 1 or smooth % 2 == 0:
            raise ValueError(f'av_alignment_detector.py: smooth must be odd and >= 1, got '
                             f'{smooth}')
        if score not in ('similarity', 'infonce'):
            raise ValueError(f"av_alignment_detector.py: score must be 'similarity' or "
                             f"'infonce', got {score!r}")
        if video_norm not in (None, 'temporal'):
            raise ValueError(f"av_alignment_detector.py: video_norm must be None or "
                             f"'temporal', got {video_norm!r}")
        if temperature <= 0:
            raise ValueError(f'av_alignment_detector.py: temperature must be > 0, got '
                             f'{temperature}')
        data_preprocessor = _build(data_preprocessor or dict(type='AVDataPreprocessor'))
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.video_encoder = _build(video_encoder)
        self.audio_encoder = _build(audio_encoder)
        self.video_context = _context(embed_dim, proj_dim, context_layers, kernel_size)
        self.audio_context = _context(embed_dim, proj_dim, context_layers, kernel_size)
        self.max_offset = int(max_offset)
        self.tolerance = int(tolerance)
        self.sync_search = int(sync_search)
        self.temperature = float(temperature)
        self.smooth = int(smooth)
        self.score = score
        self.video_norm = video_norm
        self.audio_envelope_bands = audio_envelope_bands
        self.relative = bool(relative)
        self.margin = float(margin)
        self.calib_momentum = float(calib_momentum)
        # Running mean / std of the clip statistic on real training clips; count = clips seen.
        self.register_buffer('real_stat_mean', torch.zeros(()))
        self.register_buffer('real_stat_std', torch.ones(()))
        self.register_buffer('real_stat_count', torch.zeros((), dtype=torch.long))

    # ------------------------------------------------------------------ network
    def embed(self, inputs: dict):
        """Unit alignment vectors ``(z_v, z_a)``, each ``(B, T, E)``."""
        video = inputs['video']
        if self.video_norm == 'temporal':  # (B, C, T, H, W) -> grey, minus the mean image
            video = video.mean(dim=1, keepdim=True)
            video = video - video.mean(dim=2, keepdim=True)
            video = video / video.flatten(1).std(dim=1).clamp_min(1e-5).view(-1, 1, 1, 1, 1)
        v = self.video_encoder(video)
        audio = inputs['audio']
        if self.audio_envelope_bands:
            b, t, f = audio.shape
            if f % self.audio_envelope_bands:
                raise ValueError(f'av_alignment_detector.py: {f} audio features per frame are '
                                 f'not a multiple of audio_envelope_bands='
                                 f'{self.audio_envelope_bands}')
            audio = audio.reshape(b, t, -1, self.audio_envelope_bands).mean(dim=-1)
            audio = audio - audio.mean(dim=(1, 2), keepdim=True)
            audio = audio / audio.flatten(1).std(dim=1).clamp_min(1e-5).view(-1, 1, 1)
        a = self.audio_encoder(audio)
        if v.shape[1] != a.shape[1]:
            raise ValueError(f'av_alignment_detector.py: {v.shape[1]} video tokens but '
                             f'{a.shape[1]} audio tokens; both need one per frame')
        z_v = self.video_context(v.transpose(1, 2)).transpose(1, 2)
        z_a = self.audio_context(a.transpose(1, 2)).transpose(1, 2)
        return F.normalize(z_v, dim=-1), F.normalize(z_a, dim=-1)

    def infonce(self, z_v: torch.Tensor, z_a: torch.Tensor) -> torch.Tensor:
        """``(B, T)``: the mean of both directions' InfoNCE loss at each frame."""
        k, d = self.max_offset, self.tolerance
        va = offset_logits(z_v, z_a, k, self.temperature).log_softmax(-1)
        av = offset_logits(z_a, z_v, k, self.temperature).log_softmax(-1)
        va, av = va[..., k - d:k + d + 1].logsumexp(-1), av[..., k - d:k + d + 1].logsumexp(-1)
        return -(va + av) / 2

    def agreement(self, z_v: torch.Tensor, z_a: torch.Tensor) -> torch.Tensor:
        """``(B, T)``: ``<z^v_t, z^a_t>``; its best over offsets ``|k| <= tolerance``; or
        ``<z^v_t, z^a_{t+k*}>`` at the clip's lag ``k*`` (``sync_search``)."""
        if self.tolerance:
            return offset_logits(z_v, z_a, self.tolerance, 1.0).amax(-1)
        if not self.sync_search:
            return (z_v * z_a).sum(-1)
        sims = offset_logits(z_v, z_a, self.sync_search, 1.0)  # (B, T, 2S + 1)
        lag = lag_profile(sims).argmax(-1)  # (B,): index of k*
        at_lag = sims.gather(-1, lag.view(-1, 1, 1).expand(-1, sims.shape[1], 1))[..., 0]
        # Frames whose partner at k* lies outside the clip keep their lag-0 agreement.
        return torch.where(torch.isfinite(at_lag), at_lag, sims[..., self.sync_search])

    def misalignment(self, inputs: dict) -> torch.Tensor:
        """``m_t`` ``(B, T)`` of the chosen ``score``."""
        z_v, z_a = self.embed(inputs)
        if self.score == 'infonce':
            return self.infonce(z_v, z_a)
        return -self.agreement(z_v, z_a)

    def statistic(self, m: torch.Tensor) -> torch.Tensor:
        """Per-frame statistic ``s_t`` ``(B, T)``: smoothed ``m_t``, minus the clip median."""
        s = m
        if self.smooth > 1:
            s = F.avg_pool1d(m[:, None], self.smooth, stride=1, padding=self.smooth // 2,
                             count_include_pad=False)[:, 0]
        if self.relative:
            s = s - m.median(dim=1, keepdim=True).values
        return s

    # ------------------------------------------------------------------ modes
    def forward(self, inputs: dict, data_samples: Optional[List[AVDataSample]] = None,
                mode: str = 'tensor'):
        """``'tensor'`` (two-class log-probabilities ``(B, 2)``), ``'loss'`` or ``'predict'``."""
        if mode == 'tensor':
            p = self._scores(inputs)['clip'].clamp(1e-6, 1 - 1e-6)
            return torch.stack([1 - p, p], dim=-1).log()
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise ValueError(f'av_alignment_detector.py: invalid mode {mode!r}; use tensor, loss '
                         f'or predict')

    def loss(self, inputs: dict, data_samples: List[AVDataSample]) -> Dict[str, torch.Tensor]:
        """``loss_align``: the InfoNCE of the real clips with audio (0 when a batch has none)."""
        if data_samples is None:
            raise ValueError('av_alignment_detector.py: mode="loss" needs data_samples with '
                             'gt_label (the real clips are the training signal)')
        z_v, z_a = self.embed(inputs)
        loss = self.infonce(z_v, z_a)
        device = loss.device
        real = stack_gt_labels(data_samples, device) == 0
        real &= has_audio_mask(inputs, loss.shape[0], device)
        if not bool(real.any()):
            return dict(loss_align=loss.sum() * 0.0)
        with torch.no_grad():
            m = loss if self.score == 'infonce' else -self.agreement(z_v, z_a)
            self._update_calibration(self.statistic(m[real]).amax(dim=1))
        return dict(loss_align=loss[real].mean())

    @torch.no_grad()
    def _update_calibration(self, stats: torch.Tensor) -> None:
        mean, std = stats.mean(), stats.std(unbiased=False)
        if int(self.real_stat_count) == 0:
            self.real_stat_mean.copy_(mean)
            self.real_stat_std.copy_(std.clamp_min(1e-3))
        else:
            mom = self.calib_momentum
            self.real_stat_mean.mul_(1 - mom).add_(mom * mean)
            self.real_stat_std.mul_(1 - mom).add_(mom * std.clamp_min(1e-3))
        self.real_stat_count.add_(stats.numel())

    def _scores(self, inputs: dict) -> Dict[str, torch.Tensor]:
        m = self.misalignment(inputs)
        z = (self.statistic(m) - self.real_stat_mean) / self.real_stat_std.clamp_min(1e-3)
        frames = torch.sigmoid(z - self.margin)
        has_audio = has_audio_mask(inputs, m.shape[0], m.device)
        neutral = torch.full_like(frames, 1.0 / (1.0 + math.exp(self.margin)))
        frames = torch.where(has_audio[:, None], frames, neutral)
        return dict(clip=frames.amax(dim=1), frames=frames)

    @torch.no_grad()
    def predict(self, inputs: dict, data_samples: Optional[List[AVDataSample]] = None
                ) -> List[AVDataSample]:
        """``pred_score`` / ``pred_label`` per clip, and the per-frame timeline
        (``pred_frame_scores``, ``pred_frame_times``)."""
        return set_whole_video_predictions(self._scores(inputs), data_samples)
