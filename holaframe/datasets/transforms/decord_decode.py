"""Decode only the sampled frames of an opened video."""

from typing import Dict

import numpy as np
from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

from ..io import BadSampleError, PyAVVideoReader

__all__ = ['DecordDecode']


@TRANSFORMS.register_module()
class DecordDecode(BaseTransform):
    """Decode the frames at ``results['frame_inds']`` into ``imgs`` (T, H, W, 3) uint8 RGB.

    Only the distinct sampled indices are requested from the reader (decord seeks), so a long
    clip costs only what is sampled. Repeated indices (short clips) are decoded once. If decord
    fails mid-file, the PyAV reader is tried before a
    :class:`~holaframe.datasets.io.BadSampleError` naming the file is raised.
    """

    def transform(self, results: Dict) -> Dict:
        """Decode the sampled frames."""
        reader = results.pop('video_reader', None)
        if reader is None:
            raise KeyError('DecordDecode needs DecordInit before it in the pipeline')
        inds = np.asarray(results['frame_inds'], dtype=np.int64)
        total = results['total_frames']
        if inds.size == 0 or inds.min() < 0 or inds.max() >= total:
            raise BadSampleError(f'{results["filename"]}: frame indices out of range '
                                 f'[0, {total}): {inds.tolist()}')
        uniq, inverse = np.unique(inds, return_inverse=True)
        try:
            frames = reader.get_batch(uniq.tolist())
        except BadSampleError:
            raise
        except Exception as e:
            try:
                frames = PyAVVideoReader(results['filename'],
                                         results.get('decode_size')).get_batch(uniq.tolist())
            except Exception as e2:
                raise BadSampleError(f'{results["filename"]}: cannot decode frames '
                                     f'({e}; pyav: {e2})') from e2
        if uniq.size == inds.size and np.array_equal(uniq, inds):
            imgs = np.ascontiguousarray(frames)  # distinct increasing indices: no gather copy
        else:
            imgs = np.ascontiguousarray(frames[inverse.reshape(-1)])
        if imgs.dtype != np.uint8 or imgs.ndim != 4:
            raise BadSampleError(f'{results["filename"]}: unexpected decoded frames '
                                 f'{imgs.dtype} {imgs.shape}')
        results['imgs'] = imgs
        results['original_shape'] = imgs.shape[1:3]
        results['img_shape'] = imgs.shape[1:3]
        return results
