"""Per-frame fake labels from the metadata's fake segments (opt-in segment supervision)."""

from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

__all__ = ['FrameFakeMask']


@TRANSFORMS.register_module()
class FrameFakeMask(BaseTransform):
    """``frame_labels`` (T,) float32: 1 where the sampled frame's centre lies in a fake segment.

    Frame ``f`` is labelled 1 iff ``start <= (f + 0.5) / fps < end`` for a segment of
    ``results[segments_key]`` (default ``fake_segments``; ``audio_fake_segments`` and
    ``visual_fake_segments`` also work). Segment labels are NOT allowed by the 1M-Deepfakes
    challenge's video-level rule: only configs that opt in use this transform (see
    ``docs/data.md``). Pseudo-labelled fakes without segments raise an error, since their
    frames cannot be labelled.

    Args:
        segments_key: Metadata field holding the [start_s, end_s] segments.
    """

    def __init__(self, segments_key: str = 'fake_segments') -> None:
        self.segments_key = segments_key

    def transform(self, results: Dict) -> Dict:
        """Add ``frame_labels``."""
        inds = np.asarray(results['frame_inds'], np.float64)
        fps = float(results.get('avg_fps', 25.0))
        segs = results.get(self.segments_key) or []
        if results.get('pseudo_label') and results.get('gt_label') == 1 and not segs:
            raise ValueError(f'{results.get("filename")}: a pseudo-labelled fake has no '
                             'segments, so FrameFakeMask cannot label its frames')
        centres = (inds + 0.5) / fps
        labels = np.zeros(len(inds), np.float32)
        for s, e in segs:
            labels[(centres >= s) & (centres < e)] = 1.0
        results['frame_labels'] = labels
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(segments_key={self.segments_key!r})'
