"""Per-frame localisation targets in seconds from the metadata's fake segments."""

from typing import Dict, List

import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

__all__ = ['SegmentTargets']


@TRANSFORMS.register_module()
class SegmentTargets(BaseTransform):
    """``frame_labels`` (T,) and ``loc_targets`` (T, 2) seconds for temporal localisation.

    Sampled frame ``f`` has its centre at ``c = (f + 0.5) / fps`` seconds (``avg_fps`` from the
    decoder). It is fake (label 1) iff ``start <= c < end`` for a segment of
    ``results[segments_key]``; its targets are then the distances ``(c - start, end - c)`` to
    that segment's boundaries in seconds (zero for real frames). The labels are the same as
    :class:`FrameFakeMask`'s, so a frame-level auxiliary head reads them as well.

    The segments are checked against the decoded clip (``total_frames / fps`` seconds, which
    can differ from the metadata's duration):

    * a segment with ``start >= end``, or one that lies entirely outside ``[0, duration]``, is
      an error naming the file and the segment (with ``skip_bad_samples`` the dataset records
      it in ``bad_samples.txt`` and, at test time, in the error report);
    * a segment that sticks out of the clip is clipped to it (``clip_segments=True``; with
      False it is an error) and the clipped segments replace ``results[segments_key]``, so
      the metainfo and the targets agree. A tolerance of half a frame absorbs rounding of the
      metadata.

    Segment labels are NOT allowed by the 1M-Deepfakes challenge's video-level rule (Track 1);
    temporal localisation (Track 2) is trained with them.

    Args:
        segments_key: Metadata field of the ``[start_s, end_s]`` segments.
        clip_segments: Clip segments that stick out of the clip instead of failing.
    """

    def __init__(self, segments_key: str = 'fake_segments', clip_segments: bool = True) -> None:
        self.segments_key = segments_key
        self.clip_segments = clip_segments

    def checked_segments(self, results: Dict) -> List[List[float]]:
        """The segments of ``results``, checked and clipped to the decoded clip."""
        name = results.get('filename') or results.get('file') or '<unknown file>'
        fps = float(results.get('avg_fps', 25.0))
        duration = float(results.get('total_frames', 0)) / fps
        tol = 0.5 / fps
        segs = results.get(self.segments_key) or []
        if results.get('pseudo_label') and results.get('gt_label') == 1 and not segs:
            raise ValueError(f'{name}: a pseudo-labelled fake has no segments, so '
                             'SegmentTargets cannot label its frames')
        out = []
        for seg in segs:
            start, end = float(seg[0]), float(seg[1])
            if not start < end:
                raise ValueError(f'{name}: {self.segments_key} segment [{start}, {end}] has '
                                 'start >= end')
            if end <= 0 or (duration > 0 and start >= duration):
                raise ValueError(f'{name}: {self.segments_key} segment [{start}, {end}] lies '
                                 f'outside the video (0 to {duration:.3f} s)')
            lo, hi = max(start, 0.0), min(end, duration) if duration > 0 else end
            if (start < -tol or end > duration + tol) and duration > 0:
                if not self.clip_segments:
                    raise ValueError(f'{name}: {self.segments_key} segment [{start}, {end}] '
                                     f'sticks out of the video (0 to {duration:.3f} s)')
            out.append([lo, hi])
        return out

    def transform(self, results: Dict) -> Dict:
        """Add ``frame_labels`` and ``loc_targets``; replace the segments by the checked ones."""
        segs = self.checked_segments(results)
        results[self.segments_key] = segs
        inds = np.asarray(results['frame_inds'], np.float64)
        fps = float(results.get('avg_fps', 25.0))
        centres = (inds + 0.5) / fps
        labels = np.zeros(len(inds), np.float32)
        dists = np.zeros((len(inds), 2), np.float32)
        for s, e in segs:
            inside = (centres >= s) & (centres < e)
            labels[inside] = 1.0
            dists[inside, 0] = centres[inside] - s
            dists[inside, 1] = e - centres[inside]
        results['frame_labels'] = labels
        results['loc_targets'] = dists
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(segments_key={self.segments_key!r}, '
                f'clip_segments={self.clip_segments})')
