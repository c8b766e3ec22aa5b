"""Check an uploaded file by opening its container with PyAV (never by its name)."""

from dataclasses import asdict, dataclass
from typing import Optional

import av

from .errors import ServiceError

__all__ = ['VideoInfo', 'probe_video']


@dataclass
class VideoInfo:
    """What the container says about a video."""

    container: str
    codec: str
    width: int
    height: int
    duration_s: float
    fps: float
    has_audio: bool

    def to_json(self) -> dict:
        """A JSON-friendly dict."""
        return asdict(self)


def probe_video(path: str, max_duration_s: Optional[float] = None,
                max_side: Optional[int] = None) -> VideoInfo:
    """Open ``path`` as a media container and check its video stream against the limits.

    Raises:
        ServiceError: 415 when it is not a container with a decodable video stream (text,
            an image, audio only, a truncated header); 422 when the duration or the frame size
            exceeds the limits, or the duration is unknown or zero.
    """
    try:
        container = av.open(path, mode='r', metadata_errors='ignore')
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise ServiceError(415, 'unsupported_media',
                           f'the upload is not a video container ({type(exc).__name__}: '
                           f'{exc})') from None
    with container:
        fmt = container.format.name if container.format is not None else ''
        streams = [s for s in container.streams.video if s.codec_context is not None]
        if not streams:
            raise ServiceError(415, 'unsupported_media',
                               f'the upload ({fmt or "unknown container"}) has no video stream')
        vs = streams[0]
        if fmt in ('image2', 'png_pipe', 'jpeg_pipe', 'webp_pipe', 'gif', 'bmp_pipe', 'tiff_pipe'):
            raise ServiceError(415, 'unsupported_media',
                               f'the upload is a still image ({fmt}), not a video')
        width, height = int(vs.codec_context.width or 0), int(vs.codec_context.height or 0)
        if width <= 0 or height <= 0:
            raise ServiceError(415, 'unsupported_media',
                               f'the video stream ({vs.codec_context.name}) has no frame size')
        if vs.duration is not None and vs.time_base is not None:
            duration = float(vs.duration * vs.time_base)
        elif container.duration is not None:
            duration = container.duration / 1e6
        else:
            duration = 0.0
        rate = vs.average_rate or vs.guessed_rate
        fps = float(rate) if rate else 0.0
        info = VideoInfo(container=fmt, codec=vs.codec_context.name, width=width,
                         height=height, duration_s=round(duration, 3), fps=round(fps, 3),
                         has_audio=bool(container.streams.audio))
    if info.duration_s <= 0:
        raise ServiceError(422, 'unknown_duration',
                           'the video stream declares no duration (a live stream or a '
                           'truncated file?)')
    if max_duration_s is not None and info.duration_s > max_duration_s:
        raise ServiceError(422, 'video_too_long',
                           f'the video lasts {info.duration_s:.1f} s; the limit is '
                           f'{max_duration_s:g} s')
    if max_side is not None and max(width, height) > max_side:
        raise ServiceError(422, 'resolution_too_high',
                           f'the video is {width}x{height}; the longest side may be at most '
                           f'{max_side} px')
    return info
