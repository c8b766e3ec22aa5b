"""Open a video (decord, PyAV fallback) without decoding any frame, within size limits."""

from typing import Dict, Optional

from mmcv.transforms import BaseTransform

from holaframe.registry import TRANSFORMS

from ..io import open_video

__all__ = ['DecordInit']


@TRANSFORMS.register_module()
class DecordInit(BaseTransform):
    """Open ``results['filename']`` and record its length and frame rate.

    Adds ``video_reader`` (removed again by :class:`DecordDecode`), ``total_frames``,
    ``num_frames`` (same, for the metainfo), ``avg_fps``, ``source_shape`` (coded height,
    width) and ``decode_size`` ((width, height) the frames are decoded at, or None). A missing,
    empty, truncated or undecodable file, a symbolic link loop, a file without a video stream,
    and a file over the limits raise :class:`~holaframe.datasets.io.BadSampleError` naming the
    file and the cause (see :func:`~holaframe.datasets.io.open_video`).

    Limits (checked from the container header, before anything is decoded):

    * ``max_file_size_mb``: larger files are refused;
    * ``max_duration``: longer clips are refused (a 10-minute clip costs about 450 MB more
      memory through the audio track and its features; raise the limit to score long
      videos);
    * ``max_side``: frames with a longer side are decoded scaled down to it (aspect kept), so
      a 4K upload costs what a 1080p one does. The dataset's own clips are far below all three.

    Args:
        backend: ``'decord'`` (PyAV fallback when decord fails) or ``'pyav'``.
        num_threads: decord decoding threads.
        default_fps: Frame rate used when the container reports none.
        max_duration: Longest accepted clip in seconds (None: no limit). Defaults to 300.
        max_side: Longest decoded frame side in pixels (None: coded size). Defaults to 1920.
        max_file_size_mb: Largest accepted file in MiB (None: no limit). Defaults to 1024.
    """

    def __init__(self, backend: str = 'decord', num_threads: int = 1,
                 default_fps: float = 25.0, max_duration: Optional[float] = 300.0,
                 max_side: Optional[int] = 1920,
                 max_file_size_mb: Optional[float] = 1024.0) -> None:
        for name, value in (('max_duration', max_duration), ('max_side', max_side),
                            ('max_file_size_mb', max_file_size_mb)):
            if value is not None and not value > 0:
                raise ValueError(f'DecordInit: {name} must be None or > 0, got {value!r}')
        self.backend = backend
        self.num_threads = num_threads
        self.default_fps = default_fps
        self.max_duration = max_duration
        self.max_side = max_side
        self.max_file_size_mb = max_file_size_mb

    def transform(self, results: Dict) -> Dict:
        """Open the video."""
        max_bytes = None if self.max_file_size_mb is None else int(self.max_file_size_mb * 2**20)
        reader = open_video(results['filename'], self.backend, self.num_threads,
                            max_side=self.max_side, max_duration=self.max_duration,
                            max_bytes=max_bytes)
        fps = reader.get_avg_fps()
        info = getattr(reader, 'info', {})
        results['video_reader'] = reader
        results['total_frames'] = len(reader)
        results['num_frames'] = len(reader)
        results['avg_fps'] = float(fps) if fps and fps > 0 else self.default_fps
        results['source_shape'] = (info.get('height'), info.get('width'))
        results['decode_size'] = info.get('decode_size')
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(backend={self.backend!r}, '
                f'max_duration={self.max_duration}, max_side={self.max_side}, '
                f'max_file_size_mb={self.max_file_size_mb})')
