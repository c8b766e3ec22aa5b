"""Dense sampling: K consecutive frames at the native frame rate."""

from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

__all__ = ['DenseSampleFrames']


@TRANSFORMS.register_module()
class DenseSampleFrames(BaseTransform):
    """Take a window of ``clip_len`` consecutive frames.

    Train mode: a random window; with probability ``fake_centred_prob`` (and when the sample
    has ``fake_segments``), a window centred on a random fake segment with a jitter of up to a
    quarter window. Using ``fake_centred_prob > 0`` reads segment labels, which the challenge's
    video-level rule does not allow (synthetic-data configs only). Test mode: the window at
    ``test_start`` (``'start'`` or ``'center'``). A clip shorter than the window repeats its
    last frame (``short_clip='pad'``) or loops (``'loop'``); ``num_valid_frames`` records how
    many frames are real.

    Args:
        clip_len: K, the window length in frames.
        test_mode: Deterministic window.
        fake_centred_prob: Probability of centring a training window on a fake segment.
        test_start: Test-mode window position.
        short_clip: ``'pad'`` or ``'loop'``.
    """

    def __init__(self, clip_len: int = 64, test_mode: bool = False,
                 fake_centred_prob: float = 0.0, test_start: str = 'start',
                 short_clip: str = 'pad') -> None:
        if clip_len < 1:
            raise ValueError(f'clip_len must be >= 1, got {clip_len}')
        if test_start not in ('start', 'center'):
            raise ValueError(f"test_start must be 'start' or 'center', got {test_start!r}")
        if short_clip not in ('pad', 'loop'):
            raise ValueError(f"short_clip must be 'pad' or 'loop', got {short_clip!r}")
        self.clip_len = clip_len
        self.test_mode = test_mode
        self.fake_centred_prob = fake_centred_prob
        self.test_start = test_start
        self.short_clip = short_clip

    def transform(self, results: Dict) -> Dict:
        """Add ``frame_inds``, ``clip_len`` and ``num_valid_frames``."""
        n, k = int(results['total_frames']), self.clip_len
        if n < k:
            ar = np.arange(k)
            inds = np.minimum(ar, n - 1) if self.short_clip == 'pad' else ar % n
            results['num_valid_frames'] = n
        else:
            if self.test_mode:
                start = 0 if self.test_start == 'start' else (n - k) // 2
            else:
                start = np.random.randint(0, n - k + 1)
                segs = results.get('fake_segments') or []
                if segs and np.random.rand() < self.fake_centred_prob:
                    fps = float(results.get('avg_fps', 25.0))
                    s, e = segs[np.random.randint(len(segs))]
                    centre = (s + e) / 2 * fps
                    jitter = np.random.uniform(-k / 4, k / 4)
                    start = int(np.clip(round(centre - k / 2 + jitter), 0, n - k))
            inds = start + np.arange(k)
            results['num_valid_frames'] = k
        results['frame_inds'] = inds.astype(np.int64)
        results['clip_len'] = k
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(clip_len={self.clip_len}, test_mode={self.test_mode}, '
                f'fake_centred_prob={self.fake_centred_prob})')
