"""Per-frame localisation outputs -> ranked fake-segment proposals of one whole video."""

from typing import Optional, Sequence

import numpy as np
import torch

from holaframe.registry import MODELS

NMS_MODES = ('soft', 'hard', 'none')


def segment_iou(segment: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Temporal IoU of one ``[start, end]`` segment with each row of ``others`` ``(N, 2)``."""
    inter = (np.minimum(segment[1], others[:, 1]) - np.maximum(segment[0], others[:, 0]))
    inter = np.clip(inter, 0.0, None)
    union = (segment[1] - segment[0]) + (others[:, 1] - others[:, 0]) - inter
    return inter / np.maximum(union, 1e-9)


def mask_segments(scores: np.ndarray, times: np.ndarray, step: float,
                  threshold: float) -> np.ndarray:
    """Runs of consecutive positions with ``score >= threshold`` as ``[score, start, end]``.

    Args:
        scores (ndarray): ``(T,)`` per-position probabilities.
        times (ndarray): ``(T,)`` centre time of each position in seconds.
        step (float): Seconds per position.
        threshold (float): Score threshold.

    Returns:
        ndarray: ``(M, 3)`` rows ``[mean score of the run, start_s, end_s]``.
    """
    above = np.concatenate([[False], scores >= threshold, [False]])
    edges = np.flatnonzero(above[1:] != above[:-1])
    rows = [[float(scores[a:b].mean()), times[a] - step / 2, times[b - 1] + step / 2]
            for a, b in zip(edges[::2], edges[1::2])]
    return np.asarray(rows, np.float64).reshape(-1, 3)


@MODELS.register_module()
class SegmentPostProcessor:
    """Turn per-position fake probabilities and boundary distances into segment proposals.

    Candidates: every position ``t`` (centre time ``c_t`` seconds, ``p_t`` its fake
    probability, ``(d_s, d_e)`` its predicted distances in seconds) proposes
    ``[p_t, c_t - d_s, c_t + d_e]`` (ActionFormer's decoding, Zhang et al., ECCV 2022,
    Sec. 3.3); with ``mask_threshold`` each run of consecutive positions with
    ``p_t >= mask_threshold`` is one more candidate (its mean probability, the run's span). The
    ``pre_nms_topk`` best candidates are clipped to ``[0, duration]`` and suppressed:

    * ``'soft'``: Gaussian soft-NMS (Bodla et al., ICCV 2017): after each pick, the others'
      scores become ``s_j * exp(-IoU_j^2 / sigma)``, so overlapping proposals stay, ranked lower
      (the AR@N metrics reward them);
    * ``'hard'``: greedy NMS dropping candidates with ``IoU > iou_threshold``;
    * ``'none'``: sorting only.

    A proposal's confidence may include the whole video's detection score
    ``v``: ``conf = s * v ** video_score_power`` (0 leaves it out), which ranks segments of
    videos the detector finds real below those of videos it finds fake when AP is computed
    over a whole subset. The output always has at least one row (the best candidate, even
    below ``min_score``, or ``[0, 0, duration]`` without any position).

    Args:
        nms (str): ``'soft'``, ``'hard'`` or ``'none'``. Defaults to ``'soft'``.
        iou_threshold (float): Hard-NMS IoU threshold. Defaults to 0.5.
        sigma (float): Soft-NMS Gaussian width. Defaults to 0.5.
        pre_nms_topk (int): Candidates kept before NMS. Defaults to 1000.
        max_per_video (int): Cap on proposals per video. Defaults to 100.
        min_score (float): Proposals below this confidence are dropped (after NMS).
            Defaults to 0.001.
        mask_threshold (float, optional): Threshold of the run candidates; None disables them.
            Defaults to 0.5.
        video_score_power (float): Exponent of the video score in the confidence. Defaults to 0.
    """

    def __init__(self, nms: str = 'soft', iou_threshold: float = 0.5, sigma: float = 0.5,
                 pre_nms_topk: int = 1000, max_per_video: int = 100, min_score: float = 0.001,
                 mask_threshold: Optional[float] = 0.5, video_score_power: float = 0.0) -> None:
        if nms not in NMS_MODES:
            raise ValueError(f'segment_post_processor.py: nms must be one of {NMS_MODES}, '
                             f'got {nms!r}')
        if max_per_video < 1 or pre_nms_topk < 1:
            raise ValueError(f'segment_post_processor.py: max_per_video and pre_nms_topk must '
                             f'be >= 1, got {max_per_video} and {pre_nms_topk}')
        if sigma <= 0:
            raise ValueError(f'segment_post_processor.py: sigma must be > 0, got {sigma}')
        self.nms = nms
        self.iou_threshold = iou_threshold
        self.sigma = sigma
        self.pre_nms_topk = pre_nms_topk
        self.max_per_video = max_per_video
        self.min_score = min_score
        self.mask_threshold = mask_threshold
        self.video_score_power = video_score_power

    def to_config(self) -> dict:
        """The settings as a config dict (``type`` included) that builds an equal
        post-processor; an exported graph records it for the runtime."""
        return dict(type=type(self).__name__, nms=self.nms, iou_threshold=self.iou_threshold,
                    sigma=self.sigma, pre_nms_topk=self.pre_nms_topk,
                    max_per_video=self.max_per_video, min_score=self.min_score,
                    mask_threshold=self.mask_threshold,
                    video_score_power=self.video_score_power)

    def _suppress(self, cands: np.ndarray) -> np.ndarray:
        scores = cands[:, 0].copy()
        segs = cands[:, 1:]
        alive = np.ones(len(cands), bool)
        out = []
        while alive.any() and len(out) < self.max_per_video:
            i = int(np.argmax(np.where(alive, scores, -np.inf)))
            out.append([scores[i], segs[i, 0], segs[i, 1]])
            alive[i] = False
            if self.nms == 'none':
                continue
            iou = segment_iou(segs[i], segs)
            if self.nms == 'hard':
                alive &= iou <= self.iou_threshold
            else:
                scores = scores * np.exp(-(iou ** 2) / self.sigma)
        return np.asarray(out, np.float64).reshape(-1, 3)

    def __call__(self, scores: Sequence[float], offsets: Sequence[Sequence[float]],
                 times: Sequence[float], duration: float, step: Optional[float] = None,
                 video_score: float = 1.0) -> torch.Tensor:
        """Proposals of one video.

        Args:
            scores (Sequence[float]): ``(T,)`` fake probability per position.
            offsets (Sequence): ``(T, 2)`` distances to the start and end in seconds.
            times (Sequence[float]): ``(T,)`` centre time of each position in seconds.
            duration (float): The video's duration in seconds (proposals are clipped to it).
            step (float, optional): Seconds per position; defaults to the spacing of ``times``.
            video_score (float): The video's detection score (see ``video_score_power``).

        Returns:
            Tensor: ``(N, 3)`` float32 rows ``[confidence, start_s, end_s]``, confidence
            descending, ``1 <= N <= max_per_video``.
        """
        p = np.asarray(scores, np.float64).reshape(-1)
        d = np.asarray(offsets, np.float64).reshape(-1, 2)
        t = np.asarray(times, np.float64).reshape(-1)
        if not (len(p) == len(d) == len(t)):
            raise ValueError(f'segment_post_processor.py: {len(p)} scores, {len(d)} offsets and '
                             f'{len(t)} times; expected one of each per position')
        duration = float(duration)
        if len(p) == 0:
            return torch.tensor([[0.0, 0.0, duration]], dtype=torch.float32)
        if step is None:
            step = float(np.median(np.diff(t))) if len(t) > 1 else duration
        cands = np.stack([p, t - d[:, 0], t + d[:, 1]], axis=1)
        if self.mask_threshold is not None:
            cands = np.concatenate([cands, mask_segments(p, t, step, self.mask_threshold)])
        cands[:, 1:] = np.clip(cands[:, 1:], 0.0, duration)
        cands = cands[cands[:, 2] > cands[:, 1]]
        if len(cands) == 0:  # every candidate collapsed onto a boundary
            i = int(np.argmax(p))
            half = step / 2
            cands = np.array([[p[i], max(t[i] - half, 0.0), min(t[i] + half, duration)]])
        order = np.argsort(-cands[:, 0], kind='stable')[:self.pre_nms_topk]
        props = self._suppress(cands[order])
        if self.video_score_power:
            props[:, 0] *= float(video_score) ** self.video_score_power
        keep = props[:, 0] >= self.min_score
        keep[0] = True  # at least one proposal
        props = props[keep]
        props = props[np.argsort(-props[:, 0], kind='stable')]
        return torch.as_tensor(props, dtype=torch.float32)
