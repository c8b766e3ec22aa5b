"""Pack the transformed sample into model inputs and an AVDataSample."""

from typing import Dict, Sequence

import cv2
import numpy as np
import torch
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS
from holaframe.structures import AVDataSample

__all__ = ['PackAVInputs', 'channels_first']

DEFAULT_META_KEYS = ('file', 'filename', 'sample_idx', 'subset', 'modify_type', 'audio_model',
                     'video_model', 'fake_segments', 'has_audio', 'num_frames', 'frame_inds',
                     'num_valid_frames', 'pseudo_label', 'avg_fps', 'source_shape',
                     'decode_size', 'audio_corrupt_packets')


def channels_first(imgs: np.ndarray) -> torch.Tensor:
    """``(T, H, W, C)`` frames as a contiguous ``(C, T, H, W)`` tensor (same dtype and values).

    3-channel uint8/float32 frames are split per frame with ``cv2.split`` straight into the
    output planes (about 3-4x faster than a strided ``permute().contiguous()`` copy, and a
    cropped, non-contiguous input needs no extra copy); anything else goes through torch.
    """
    imgs = np.asarray(imgs)
    if imgs.ndim == 4 and imgs.shape[3] == 3 and imgs.dtype in (np.uint8, np.float32):
        t, h, w, c = imgs.shape
        out = np.empty((c, t, h, w), imgs.dtype)
        for i in range(t):
            planes = [out[k, i] for k in range(c)]
            got = cv2.split(imgs[i], planes)
            if any(g is not p for g, p in zip(got, planes)):  # OpenCV allocated anew
                for k in range(c):
                    out[k, i] = got[k]
        return torch.from_numpy(out)
    return torch.from_numpy(np.ascontiguousarray(imgs)).permute(3, 0, 1, 2).contiguous()


@TRANSFORMS.register_module()
class PackAVInputs(BaseTransform):
    """Return ``dict(inputs=dict(video=..., audio=...), data_samples=AVDataSample)``.

    ``video`` is ``imgs`` (T, H, W, C) turned into a ``(C, T, H, W)`` tensor (uint8 frames stay
    uint8; normalisation is the data preprocessor's job). ``audio`` is ``results['audio']``
    (features) or, without features, the raw ``waveform``, as float32. The data sample gets
    ``gt_label`` (-1 when unknown), ``frame_labels`` and ``loc_targets`` (the per-frame
    distances to the fake segment's boundaries of :class:`SegmentTargets`) when present, and
    the metainfo keys found in the results; ``has_audio`` defaults to True when no audio
    transform said otherwise.

    Args:
        meta_keys: Result keys copied into the metainfo when present.
    """

    def __init__(self, meta_keys: Sequence[str] = DEFAULT_META_KEYS) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: Dict) -> Dict:
        """Pack the sample."""
        if 'imgs' not in results:
            raise KeyError(f'{results.get("filename")}: no decoded frames to pack (imgs)')
        video = channels_first(results['imgs'])  # (C, T, H, W)
        if 'audio' in results:
            audio = results['audio']
        elif 'waveform' in results:
            audio = results['waveform']
        else:
            raise KeyError(f'{results.get("filename")}: no audio features to pack; add '
                           'AudioDecode and an audio feature transform')
        audio = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
        sample = AVDataSample()
        sample.set_gt_label(int(results.get('gt_label', -1)))
        if 'frame_labels' in results:
            sample.frame_labels = torch.from_numpy(
                np.asarray(results['frame_labels'], np.float32))
        if 'loc_targets' in results:
            sample.loc_targets = torch.from_numpy(
                np.asarray(results['loc_targets'], np.float32))
        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta.setdefault('has_audio', True)
        if 'frame_inds' in meta:
            meta['frame_inds'] = np.asarray(meta['frame_inds']).tolist()
        sample.set_metainfo(meta)
        return dict(inputs=dict(video=video, audio=audio), data_samples=sample)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(meta_keys={self.meta_keys})'
