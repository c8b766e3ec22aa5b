"""Temporal localisation metrics of the 1M-Deepfakes Detection Challenge, Track 2.

A submission lists, per video, proposals ``[confidence, start_s, end_s]``; the ground truth of a
video is its ``fake_segments`` (``[start_s, end_s]`` in seconds, none for a real video). The
challenge ranks by

* AP at the IoU thresholds 0.5, 0.75, 0.9 and 0.95 (:data:`AP_IOU_THRESHOLDS`);
* AR at 50, 30, 20, 10 and 5 proposals per video, each averaged over the IoU thresholds
  0.5:0.05:0.95 (:data:`AR_NUM_PROPOSALS`, :data:`AR_IOU_THRESHOLDS`);
* Score = 0.5 * mean(AP) + 0.5 * mean(AR).

The arithmetic reproduces ``ap_ar_1d`` of the official SDK ``avdeepfake1m`` 0.0.4 (Rust,
``src/loc_1d.rs`` of github.com/ControlNet/AV-Deepfake1M; Cai et al., "AV-Deepfake1M: A
Large-Scale LLM-Driven Audio-Visual Deepfake Dataset", ACM MM 2024) to the last bit of its
float32 results, including its quirks:

1. **All arithmetic is float32.** Times, confidences and IoU thresholds are rounded to float32
   (0.95 becomes 0.949999988...), so are the IoUs, the precision/recall curve and the sums.
   The sums follow the 8-way unrolled order of ``ndarray`` 0.15 (:func:`unrolled_sum`).
2. **A match needs IoU strictly above the threshold** (``iou > t``); IoU exactly 0.5 is no
   match at 0.5.
3. **AP drops the first recall step.** The precision/recall curve starts at the point of the
   top-ranked proposal, never at recall 0, so the recall gained by the highest-confidence
   proposal (over all videos) is not counted: one fake video with one perfect proposal has
   AP 0; two such videos have AP 0.5. A false positive ranked first costs nothing (its step is
   0), so a real video's proposal above the two perfect ones raises AP to 2/3.
4. **AP matching is per ground-truth segment in list order.** Each segment of a video, in the
   order of ``fake_segments``, takes the first proposal *in the order the proposals are listed*
   (not by confidence) whose IoU with it is above the threshold and that no earlier segment
   took. A proposal is a true positive when some segment took it; every other one (duplicates,
   proposals of real videos) is a false positive.
5. **Ties in confidence keep the list order**: proposals are ranked by a stable sort of the
   confidences of all videos, concatenated in the order of the video list.
6. **AR takes the first n proposals as listed** (not the n most confident) and counts a segment
   as recalled when any of them overlaps it above the threshold (no one-to-one matching). The
   recall is pooled: recalled segments of all videos over all segments.
7. **Real videos** count in AP only: their proposals are false positives; they add nothing to
   AR.
8. **Every video needs at least one proposal.** The SDK panics on an empty list (and on a
   listed video missing from the submission); here :func:`as_proposals` raises a
   ``ValueError`` naming the video.
9. **No fake segment at all** makes AP NaN (recall = 0 / 0); AR is then 0.
10. **Zero-length boxes**: a zero-length proposal and a zero-length segment at the same time
    have IoU 0 / 0 = NaN, which matches nothing.

Proposals are expected sorted by confidence (descending), as the challenge asks; quirks 4 and 6
only matter for files that are not.
"""

from typing import Dict, List, Optional, Sequence

import numpy as np

#: IoU thresholds of the challenge's AP.
AP_IOU_THRESHOLDS = (0.5, 0.75, 0.9, 0.95)
#: Proposals per video of the challenge's AR.
AR_NUM_PROPOSALS = (50, 30, 20, 10, 5)
#: IoU thresholds averaged in each AR: 0.5:0.05:0.95.
AR_IOU_THRESHOLDS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)

F32 = np.float32


def _where(names: Optional[Sequence[str]], i: int) -> str:
    return f'video {names[i]!r}' if names is not None else f'video #{i}'


def as_proposals(value, where: str = 'video') -> np.ndarray:
    """Check one video's proposals and return them as a float32 ``(N, 3)`` array.

    Args:
        value: ``(N, 3)`` rows ``[confidence, start_s, end_s]`` (list, array or tensor).
        where (str): How to name the video in an error.

    Raises:
        ValueError: Not ``(N, 3)``, ``N == 0`` (the official SDK panics on an empty list) or a
            value that is not finite.
    """
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 3:
        raise ValueError(f'localization_functional.py: {where}: proposals must have shape '
                         f'(N, 3) rows [confidence, start, end], got shape {arr.shape}')
    if arr.shape[0] == 0:
        raise ValueError(f'localization_functional.py: {where}: no proposal; every evaluated '
                         'video needs at least one (the official SDK panics on an empty list)')
    if not np.isfinite(arr).all():
        raise ValueError(f'localization_functional.py: {where}: proposals hold a value that is '
                         'not finite')
    return arr.astype(F32)


def as_segments(value, where: str = 'video') -> np.ndarray:
    """Check one video's ground-truth segments and return them as float32 ``(M, 2)``.

    Args:
        value: ``[[start_s, end_s], ...]``; empty (or ``None``) for a real video.
        where (str): How to name the video in an error.
    """
    if value is None:
        value = []
    if hasattr(value, 'detach'):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 2), F32)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ValueError(f'localization_functional.py: {where}: fake_segments must be '
                         f'[[start, end], ...], got shape {arr.shape}')
    if not np.isfinite(arr).all():
        raise ValueError(f'localization_functional.py: {where}: fake_segments hold a value '
                         'that is not finite')
    return arr.astype(F32)


def unrolled_sum(values: np.ndarray) -> F32:
    """Float32 sum in the order of ``ndarray`` 0.15's ``sum`` of a contiguous array.

    Eight partial sums take every eighth element; they are combined as
    ``((((0 + (p0 + p4)) + (p1 + p5)) + (p2 + p6)) + (p3 + p7))`` and the remaining
    ``len % 8`` elements are added one by one. Rounding makes float32 sums depend on the order.

    Args:
        values (np.ndarray): 1-D float32.
    """
    values = np.asarray(values, F32)
    k = len(values) // 8
    if k:
        parts = np.cumsum(values[:8 * k].reshape(k, 8), axis=0, dtype=F32)[-1]
    else:
        parts = np.zeros(8, F32)
    acc = F32(0)
    for a, b in ((0, 4), (1, 5), (2, 6), (3, 7)):
        acc = F32(acc + F32(parts[a] + parts[b]))
    for x in values[8 * k:]:
        acc = F32(acc + x)
    return acc


def sequential_sum(values: np.ndarray) -> F32:
    """Float32 sum from left to right (``ndarray``'s sum of a strided 1-D view).

    Args:
        values (np.ndarray): 1-D float32.
    """
    acc = F32(0)
    for x in np.asarray(values, F32):
        acc = F32(acc + x)
    return acc


def segment_iou(p_start: np.ndarray, p_end: np.ndarray, t_start: np.ndarray,
                t_end: np.ndarray) -> np.ndarray:
    """Element-wise 1-D IoU in float32, operation by operation as the SDK's ``iou_1d``.

    Args:
        p_start, p_end (np.ndarray): float32 proposal bounds.
        t_start, t_end (np.ndarray): float32 segment bounds (same shape).
    """
    inter = np.maximum(np.minimum(p_end, t_end) - np.maximum(p_start, t_start), F32(0))
    union = np.maximum(p_end, t_end) - np.minimum(p_start, t_start)
    with np.errstate(divide='ignore', invalid='ignore'):
        return (inter / union).astype(F32)


def ap_from_ranking(is_tp: np.ndarray, num_segments: int) -> float:
    """AP of ranked detections as the SDK computes it (quirk 3: no first recall step).

    The curve is ``(1, 0)`` followed by ``(recall_i, precision_i)`` from the last to the
    first detection; the precision is made monotone by a running maximum along it and
    ``AP = sum_k |recall_{k+1} - recall_k| * max precision so far``. The segment from recall 0
    to the recall of the first detection is not part of the curve.

    Args:
        is_tp (np.ndarray): bool ``(N,)``, detections ranked by confidence.
        num_segments (int): Ground-truth segments of the evaluated videos.
    """
    acc_tp = np.cumsum(is_tp, dtype=F32)
    precision = acc_tp / np.arange(1, len(acc_tp) + 1, dtype=F32)
    with np.errstate(divide='ignore', invalid='ignore'):
        recall = acc_tp / F32(num_segments)
    x = np.concatenate([np.ones(1, F32), recall[::-1]])
    y = np.concatenate([np.zeros(1, F32), precision[::-1]])
    y_max = np.maximum.accumulate(y)
    with np.errstate(invalid='ignore'):
        x_diff = np.abs(np.diff(x))
        return float(unrolled_sum(x_diff * y_max[:-1]))


class LocalizationCounts:
    """Per-video matching results from which AP and AR of any subset of videos follow.

    Matching (quirk 4) and recall (quirk 6) only look inside a video, so they are computed once
    here; :meth:`ap` and :meth:`ar` then pool any selection of videos (all of them, or a
    bootstrap resample) in a few vectorised steps.

    Args:
        proposals (Sequence): Per video, ``(N, 3)`` rows ``[confidence, start_s, end_s]``.
        segments (Sequence): Per video, ``(M, 2)`` ground-truth fake segments (may be empty).
        ap_iou_thresholds (Sequence[float]): IoU thresholds of AP.
        ar_num_proposals (Sequence[int]): Proposal counts of AR.
        ar_iou_thresholds (Sequence[float]): IoU thresholds averaged in each AR.
        fps (float): Proposal times are divided by it (1 for times in seconds, the challenge's
            setting; the ground truth is never divided).
        names (Sequence[str], optional): Video names, for errors.
    """

    def __init__(self,
                 proposals: Sequence,
                 segments: Sequence,
                 ap_iou_thresholds: Sequence[float] = AP_IOU_THRESHOLDS,
                 ar_num_proposals: Sequence[int] = AR_NUM_PROPOSALS,
                 ar_iou_thresholds: Sequence[float] = AR_IOU_THRESHOLDS,
                 fps: float = 1.0,
                 names: Optional[Sequence[str]] = None) -> None:
        if len(proposals) != len(segments):
            raise ValueError(f'localization_functional.py: {len(proposals)} proposal lists for '
                             f'{len(segments)} ground-truth lists')
        if len(proposals) == 0:
            raise ValueError('localization_functional.py: no video to evaluate')
        if names is not None and len(names) != len(proposals):
            raise ValueError('localization_functional.py: names and proposals differ in length')
        if not ar_num_proposals or min(ar_num_proposals) < 1:
            raise ValueError(f'localization_functional.py: ar_num_proposals must be positive '
                             f'counts, got {ar_num_proposals}')
        self.ap_iou_thresholds = tuple(float(t) for t in ap_iou_thresholds)
        self.ar_num_proposals = tuple(int(n) for n in ar_num_proposals)
        self.ar_iou_thresholds = tuple(float(t) for t in ar_iou_thresholds)
        props = [as_proposals(p, _where(names, i)) for i, p in enumerate(proposals)]
        segs = [as_segments(s, _where(names, i)) for i, s in enumerate(segments)]
        self.num_videos = len(props)
        self.num_proposals = np.array([len(p) for p in props], np.int64)
        self.num_segments = np.array([len(s) for s in segs], np.int64)
        self.proposal_offsets = np.concatenate([[0], np.cumsum(self.num_proposals)])
        seg_offsets = np.concatenate([[0], np.cumsum(self.num_segments)])
        all_props = np.concatenate(props)
        all_segs = np.concatenate(segs) if seg_offsets[-1] else np.zeros((0, 2), F32)
        self.confidence = all_props[:, 0]
        p_start = all_props[:, 1] / F32(fps)
        p_end = all_props[:, 2] / F32(fps)

        # Every (proposal, segment) pair of every video, proposal-major within a video.
        pairs_per_video = self.num_proposals * self.num_segments
        pair_video = np.repeat(np.arange(self.num_videos), pairs_per_video)
        pair_offsets = np.concatenate([[0], np.cumsum(pairs_per_video)])
        local = np.arange(pair_offsets[-1]) - pair_offsets[pair_video]
        m = self.num_segments[pair_video]
        p_local = local // np.maximum(m, 1)
        s_local = local - p_local * m
        p_global = self.proposal_offsets[pair_video] + p_local
        s_global = seg_offsets[pair_video] + s_local
        iou = segment_iou(p_start[p_global], p_end[p_global], all_segs[s_global, 0],
                          all_segs[s_global, 1])

        # AP: per threshold, each segment takes the first free proposal above it (quirk 4).
        self.is_tp = np.zeros((len(self.ap_iou_thresholds), len(all_props)), bool)
        for k, thr in enumerate(self.ap_iou_thresholds):
            with np.errstate(invalid='ignore'):
                cand = np.nonzero(iou > F32(thr))[0]
            c_seg, c_prop, c_rank = s_global[cand], p_global[cand], s_local[cand]
            taken = self.is_tp[k]
            for rank in range(int(self.num_segments.max(initial=0))):
                sel = (c_rank == rank) & ~taken[c_prop]
                segs_r, props_r = c_seg[sel], c_prop[sel]
                # Pairs are ordered by proposal within a video: the first hit of a segment is
                # its first listed proposal.
                _, first = np.unique(segs_r, return_index=True)
                taken[props_r[first]] = True

        # AR: best IoU of each segment among the first n listed proposals (quirk 6).
        width = int(min(max(self.ar_num_proposals), self.num_proposals.max()))
        keep = p_local < width
        best = np.full((len(all_segs), max(width, 1)), -np.inf, F32)
        best[s_global[keep], p_local[keep]] = np.where(np.isnan(iou[keep]), -np.inf, iou[keep])
        best = np.maximum.accumulate(best, axis=1)
        cols = [min(n, width) - 1 for n in self.ar_num_proposals]
        thr = np.array(self.ar_iou_thresholds, F32)
        hits = best[:, cols][:, None, :] > thr[None, :, None]  # (segments, thr, n)
        cum = np.concatenate([np.zeros((1, ) + hits.shape[1:], np.int64),
                              np.cumsum(hits, axis=0, dtype=np.int64)])
        #: Recalled segments per video, threshold and proposal count.
        self.ar_hits = cum[seg_offsets[1:]] - cum[seg_offsets[:-1]]

    def _proposal_index(self, videos: np.ndarray) -> np.ndarray:
        """Indices of the proposals of ``videos``, concatenated in that order."""
        counts = self.num_proposals[videos]
        starts = self.proposal_offsets[videos]
        shift = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        return np.arange(counts.sum()) + shift

    def ap(self, videos: Optional[np.ndarray] = None) -> Dict[float, float]:
        """AP per IoU threshold over ``videos`` (indices, repeats allowed; default all).

        Args:
            videos (np.ndarray, optional): Video indices in pooling order.
        """
        videos = np.arange(self.num_videos) if videos is None else np.asarray(videos)
        index = self._proposal_index(videos)
        # Stable sort (quirk 5): ties keep the order of the concatenated lists.
        order = index[np.argsort(-self.confidence[index], kind='stable')]
        num_segments = int(self.num_segments[videos].sum())
        return {thr: ap_from_ranking(self.is_tp[k, order], num_segments)
                for k, thr in enumerate(self.ap_iou_thresholds)}

    def ar(self, videos: Optional[np.ndarray] = None) -> Dict[int, float]:
        """AR per proposal count over ``videos`` (indices, repeats allowed; default all).

        Args:
            videos (np.ndarray, optional): Video indices.
        """
        videos = np.arange(self.num_videos) if videos is None else np.asarray(videos)
        tp = self.ar_hits[videos].sum(axis=0)  # (thr, n)
        total = F32(int(self.num_segments[videos].sum()))
        recall = np.zeros(tp.shape, F32)
        if total != 0:
            recall = tp.astype(F32) / total
        # ndarray's mean of a column of the C-order (thr, n) array: a strided view is summed
        # left to right, a contiguous one (a single n) in the unrolled order.
        add = unrolled_sum if tp.shape[1] == 1 else sequential_sum
        n_thr = F32(tp.shape[0])
        return {n: float(F32(add(recall[:, j]) / n_thr))
                for j, n in enumerate(self.ar_num_proposals)}


def track2_score(ap: Dict[float, float], ar: Dict[int, float]) -> float:
    """The challenge's Track 2 score, ``0.5 * mean(AP) + 0.5 * mean(AR)``.

    Args:
        ap (dict): AP per IoU threshold.
        ar (dict): AR per proposal count.
    """
    return 0.5 * float(np.mean(list(ap.values()))) + 0.5 * float(np.mean(list(ar.values())))


def localization_metrics(proposals: Sequence,
                         segments: Sequence,
                         ap_iou_thresholds: Sequence[float] = AP_IOU_THRESHOLDS,
                         ar_num_proposals: Sequence[int] = AR_NUM_PROPOSALS,
                         ar_iou_thresholds: Sequence[float] = AR_IOU_THRESHOLDS,
                         fps: float = 1.0,
                         names: Optional[Sequence[str]] = None) -> Dict:
    """AP, AR and the Track 2 score of the official SDK's ``ap_ar_1d`` (see the module doc).

    Args:
        proposals (Sequence): Per video, ``(N >= 1, 3)`` rows ``[confidence, start_s, end_s]``.
        segments (Sequence): Per video, the ``(M, 2)`` fake segments (empty for real videos),
            in the order of the video list.
        ap_iou_thresholds (Sequence[float]): IoU thresholds of AP.
        ar_num_proposals (Sequence[int]): Proposal counts of AR.
        ar_iou_thresholds (Sequence[float]): IoU thresholds averaged in each AR.
        fps (float): Divides the proposal times (1: seconds).
        names (Sequence[str], optional): Video names, for errors.

    Returns:
        dict: ``ap`` ({threshold: AP}), ``ar`` ({count: AR}) and ``score``.
    """
    counts = LocalizationCounts(proposals, segments, ap_iou_thresholds, ar_num_proposals,
                                ar_iou_thresholds, fps, names)
    ap, ar = counts.ap(), counts.ar()
    return dict(ap=ap, ar=ar, score=track2_score(ap, ar))


def sort_proposals(proposals: np.ndarray) -> np.ndarray:
    """Rows by confidence, descending; ties keep their order (a stable sort).

    Args:
        proposals (np.ndarray): ``(N, 3)`` rows ``[confidence, start_s, end_s]``.
    """
    proposals = np.asarray(proposals)
    return proposals[np.argsort(-proposals[:, 0], kind='stable')]


__all__: List[str] = [
    'AP_IOU_THRESHOLDS', 'AR_NUM_PROPOSALS', 'AR_IOU_THRESHOLDS', 'LocalizationCounts',
    'ap_from_ranking', 'as_proposals', 'as_segments', 'localization_metrics', 'segment_iou',
    'sequential_sum', 'sort_proposals', 'track2_score', 'unrolled_sum'
]
