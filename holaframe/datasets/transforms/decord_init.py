"""Open a video (decord, PyAV fallback) without decoding any frame."""

from typing import Dict

from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

from ..io import open_video

__all__ = ['DecordInit']


@TRANSFORMS.register_module()
class DecordInit(BaseTransform):
    """Open ``results['filename']`` and record its length and frame rate.

    Adds ``video_reader`` (removed again by :class:`DecordDecode`), ``total_frames``,
    ``num_frames`` (same, for the metainfo) and ``avg_fps``. A missing, empty or undecodable
    file raises :class:`~holaframe.datasets.io.BadSampleError` naming the file.

    Args:
        backend: ``'decord'`` (PyAV fallback when decord fails) or ``'pyav'``.
        num_threads: decord decoding threads.
        default_fps: Frame rate used when the container reports none.
    """

    def __init__(self, backend: str = 'decord', num_threads: int = 1,
                 default_fps: float = 25.0) -> None:
        self.backend = backend
        self.num_threads = num_threads
        self.default_fps = default_fps

    def transform(self, results: Dict) -> Dict:
        """Open the video."""
        reader = open_video(results['filename'], self.backend, self.num_threads)
        fps = reader.get_avg_fps()
        results['video_reader'] = reader
        results['total_frames'] = len(reader)
        results['num_frames'] = len(reader)
        results['avg_fps'] = float(fps) if fps and fps > 0 else self.default_fps
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(backend={self.backend!r})'
