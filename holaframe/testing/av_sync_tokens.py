"""A token-level audio-visual synchrony task for testing that the HOLA fusion path learns.

Each clip is a pair of per-frame token sequences ``(T, F)``: video and audio tokens are two
different fixed random projections of the same per-frame latent (plus noise). The latent is
i.i.d. over frames, so neither stream alone carries any information about the label: every
stream, real or fake, has the same distribution. A fake clip breaks the correspondence over one
span of ``span`` frames, either by replacing the audio latent with a fresh one (``'replace'``)
or by shifting the audio latent in time against the video (``'shift'``, the audio at ``t``
shows the latent of ``t + d``). Only a model that compares the two streams at the same time
step can tell a fake from a real clip; a shift is invisible to a model that only asks whether
some audio token matches a video token, since the matching token is still in the clip.

:func:`train_hola_on_av_sync_tokens` trains a :class:`~holaframe.models.HOLADetector` built
through the registry (per-frame token encoders, neck, ICI, LGCF, refiner, ``ClsHead``) with
clip labels only, and reports the AUC on held-out clips; components can be removed for a
Table-3-style attribution.
"""

import copy
import time
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from holaframe.structures import AVDataSample

KINDS = ('replace', 'shift')


def make_av_sync_tokens(num_clips: int, length: int = 32, token_dim: int = 16,
                        latent_dim: int = 4, noise: float = 0.3,
                        span: Tuple[int, int] = (8, 16), shift: Tuple[int, int] = (2, 6),
                        kinds: Sequence[str] = KINDS, fake_ratio: float = 0.5,
                        task_seed: int = 0, seed: int = 0) -> Dict[str, torch.Tensor]:
    """Generate clips of the synchrony task.

    Args:
        num_clips (int): Number of clips.
        length (int): Frames per clip ``T``.
        token_dim (int): Token width ``F`` of each stream.
        latent_dim (int): Width of the shared per-frame latent.
        noise (float): Standard deviation of the per-token Gaussian noise.
        span (tuple[int, int]): Inclusive range of the fake span length in frames.
        shift (tuple[int, int]): Inclusive range of the shift ``|d|`` of ``'shift'`` fakes.
        kinds (Sequence[str]): Fake kinds to draw from (``'replace'``, ``'shift'``).
        fake_ratio (float): Fraction of fake clips.
        task_seed (int): Seed of the two projections (the "modalities"); clips generated with
            the same ``task_seed`` belong to the same task.
        seed (int): Seed of the clips.

    Returns:
        dict: ``video`` and ``audio`` ``(N, T, F)`` float32, ``labels`` ``(N,)`` int64 (1 =
        fake), ``frame_labels`` ``(N, T)`` float32 and ``kind`` ``(N,)`` int64 (-1 for real
        clips, else the index into ``kinds``).
    """
    bad = [k for k in kinds if k not in KINDS]
    if bad or not kinds:
        raise ValueError(f'av_sync_tokens.py: kinds must be a non-empty subset of {KINDS}, '
                         f'got {tuple(kinds)}')
    if not 1 <= span[0] <= span[1] <= length:
        raise ValueError(f'av_sync_tokens.py: span {span} must lie within [1, length={length}]')
    if not 1 <= shift[0] <= shift[1]:
        raise ValueError(f'av_sync_tokens.py: shift {shift} must be a range of positive ints')
    task = np.random.default_rng(task_seed)
    proj_v = task.standard_normal((latent_dim, token_dim)) / np.sqrt(latent_dim)
    proj_a = task.standard_normal((latent_dim, token_dim)) / np.sqrt(latent_dim)
    rng = np.random.default_rng(seed)
    max_shift = shift[1]
    # Latents with a margin on both sides, so that a shifted span reads real frames.
    latent = rng.standard_normal((num_clips, length + 2 * max_shift, latent_dim))
    z_v = latent[:, max_shift:max_shift + length].copy()
    z_a = z_v.copy()
    labels = (rng.random(num_clips) < fake_ratio).astype(np.int64)
    kind = np.full(num_clips, -1, np.int64)
    frame_labels = np.zeros((num_clips, length), np.float32)
    for i in np.flatnonzero(labels):
        k = int(rng.integers(len(kinds)))
        kind[i] = k
        w = int(rng.integers(span[0], span[1] + 1))
        s = int(rng.integers(0, length - w + 1))
        if kinds[k] == 'replace':
            z_a[i, s:s + w] = rng.standard_normal((w, latent_dim))
        else:
            d = int(rng.integers(shift[0], shift[1] + 1)) * (1 if rng.random() < 0.5 else -1)
            z_a[i, s:s + w] = latent[i, max_shift + s + d:max_shift + s + d + w]
        frame_labels[i, s:s + w] = 1.0
    video = z_v @ proj_v + noise * rng.standard_normal((num_clips, length, token_dim))
    audio = z_a @ proj_a + noise * rng.standard_normal((num_clips, length, token_dim))
    return dict(video=torch.from_numpy(video).float(), audio=torch.from_numpy(audio).float(),
                labels=torch.from_numpy(labels), frame_labels=torch.from_numpy(frame_labels),
                kind=torch.from_numpy(kind))


def av_sync_hola_cfg(token_dim: int = 16, dim: int = 32, num_heads: int = 4,
                     interaction: bool = True, fusion: bool = True, refiner: bool = True,
                     rel_pos_distance: Optional[int] = 8, neck_pos_embed: bool = False) -> dict:
    """Config of the HOLA detector used on the synchrony task.

    Per-frame token encoders (:class:`FrameAudioEncoder` for both streams), the variable-length
    :class:`TemporalAlignmentNeck` without positions added to its outputs, then ICI (3 layers),
    LGCF (1 layer), the pyramid refiner and :class:`ClsHead`, as in the dense synthetic config.

    Args:
        token_dim (int): Token width ``F`` of the task.
        dim (int): Width ``C`` of the fusion path.
        num_heads (int): Heads of ICI and LGCF.
        interaction (bool): Keep ICI.
        fusion (bool): Keep LGCF.
        refiner (bool): Keep the pyramid refiner.
        rel_pos_distance (int, optional): Relative time-position bias range of the attention of
            ICI and LGCF (None: position-blind attention).
        neck_pos_embed (bool): Add the neck's fixed sine-cosine table to both streams (positions
            in the token values, as in the paper configs).
    """
    pos = dict(rel_pos_distance=rel_pos_distance) if rel_pos_distance is not None else {}
    return dict(
        type='HOLADetector',
        video_encoder=dict(type='FrameAudioEncoder', in_channels=token_dim, embed_dim=dim),
        audio_encoder=dict(type='FrameAudioEncoder', in_channels=token_dim, embed_dim=dim),
        neck=dict(type='TemporalAlignmentNeck', in_channels_video=dim, in_channels_audio=dim,
                  out_channels=dim, in_length_video=None, in_length_audio=None,
                  out_length=None, add_pos_embed=neck_pos_embed),
        interaction=dict(type='IterativeCrossModalInteraction', dim=dim, num_layers=3,
                         num_heads=num_heads, **pos) if interaction else None,
        fusion=dict(type='LocalGlobalContextualFusion', dim=dim, num_layers=1,
                    num_heads=num_heads, **pos) if fusion else None,
        refiner=dict(type='PyramidRefiner', dim=dim) if refiner else None,
        head=dict(type='ClsHead', in_channels=dim))


def _samples(labels: torch.Tensor) -> list:
    return [AVDataSample().set_gt_label(int(y)) for y in labels]


@torch.no_grad()
def predict_scores(model: torch.nn.Module, video: torch.Tensor, audio: torch.Tensor,
                   batch_size: int = 256) -> torch.Tensor:
    """Fake probabilities ``(N,)`` of the model's clip score (``mode='tensor'``)."""
    model.eval()
    out = [model(dict(video=video[i:i + batch_size], audio=audio[i:i + batch_size]),
                 mode='tensor').softmax(-1)[:, 1] for i in range(0, len(video), batch_size)]
    return torch.cat(out)


def train_hola_on_av_sync_tokens(model_cfg: Optional[dict] = None, steps: int = 400,
                                 batch_size: int = 32, lr: float = 2e-3,
                                 weight_decay: float = 0.02, num_train: Optional[int] = None,
                                 num_val: int = 1024, seed: int = 0,
                                 task_kwargs: Optional[dict] = None,
                                 eval_every: Optional[int] = None) -> Dict[str, object]:
    """Train a HOLA detector on the synchrony task with clip labels only; report held-out AUC.

    AdamW with a linear warm-up over the first 5% of the steps then cosine decay, gradient
    clipping at norm 5 (the dense synthetic config's recipe).

    Args:
        model_cfg (dict, optional): Detector config; defaults to :func:`av_sync_hola_cfg`.
        steps (int): Optimiser steps.
        batch_size (int): Clips per step.
        lr (float): Peak learning rate.
        weight_decay (float): AdamW weight decay.
        num_train (int, optional): Training clips, visited in a shuffled order and reshuffled
            after each pass. Defaults to ``steps * batch_size``: every step sees new clips, so
            the held-out AUC measures learning, not memorisation.
        num_val (int): Held-out clips (a different clip seed).
        seed (int): Seed of the model initialisation, the batches and the clips.
        task_kwargs (dict, optional): Extra arguments of :func:`make_av_sync_tokens`.
        eval_every (int, optional): Also record the held-out AUC every ``eval_every`` steps.

    Returns:
        dict: ``auc`` (held-out), ``auc_per_kind`` (each fake kind against all real clips),
        ``curve`` (``[step, auc]`` pairs with ``eval_every``), ``loss_first`` / ``loss_last``
        (mean of the first / last 20 step losses), ``seconds`` (training only), ``params`` and
        ``model`` (the trained detector).
    """
    from holaframe.evaluation.functional import rank_auc
    from holaframe.registry import MODELS
    from holaframe.utils import register_all_modules

    register_all_modules()
    task_kwargs = dict(task_kwargs or {})
    num_train = num_train or steps * batch_size
    train = make_av_sync_tokens(num_train, seed=seed, **task_kwargs)
    val = make_av_sync_tokens(num_val, seed=seed + 10_000, **task_kwargs)
    torch.manual_seed(seed)
    model = MODELS.build(copy.deepcopy(model_cfg or av_sync_hola_cfg(
        token_dim=train['video'].shape[-1])))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda i: min(1.0, (i + 1) / warmup) * 0.5 * (1 + np.cos(np.pi * i / steps)))
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(num_train, generator=gen)
    losses, curve = [], []
    labels = val['labels'].numpy()
    seconds = 0.0
    start = time.perf_counter()
    for step in range(steps):
        model.train()
        first = (step * batch_size) % num_train
        if first + batch_size > num_train:
            order = torch.randperm(num_train, generator=gen)
            first = 0
        idx = order[first:first + batch_size]
        loss_dict = model(dict(video=train['video'][idx], audio=train['audio'][idx]),
                          _samples(train['labels'][idx]), mode='loss')
        loss = sum(loss_dict.values())
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()
        schedule.step()
        losses.append(float(loss.detach()))
        if eval_every and (step + 1) % eval_every == 0 and step + 1 < steps:
            seconds += time.perf_counter() - start
            scores = predict_scores(model, val['video'], val['audio']).numpy()
            curve.append([step + 1, rank_auc(labels, scores)])
            start = time.perf_counter()
    seconds += time.perf_counter() - start
    scores = predict_scores(model, val['video'], val['audio']).numpy()
    curve.append([steps, rank_auc(labels, scores)])
    kinds = task_kwargs.get('kinds', KINDS)
    per_kind = {}
    for k, name in enumerate(kinds):
        keep = (labels == 0) | (val['kind'].numpy() == k)
        if (labels[keep] == 1).any():
            per_kind[name] = rank_auc(labels[keep], scores[keep])
    return dict(auc=curve[-1][1], auc_per_kind=per_kind, curve=curve,
                loss_first=float(np.mean(losses[:20])), loss_last=float(np.mean(losses[-20:])),
                seconds=seconds, params=sum(p.numel() for p in model.parameters()),
                model=model)
