"""Hostile input files: broken, unusual or oversized videos, generated with PyAV and NumPy.

Every writer takes the output path and returns it. The files are small and quick to make: the
4K clip has two flat frames, the 10-minute clip one 32 x 32 frame per second and no audio (the
duration limit refuses it from the container header, before anything is decoded).
"""

import os
from fractions import Fraction
from typing import List, Optional

import av
import numpy as np

from .synthetic_avdf import SAMPLE_RATE, write_av_clip


def frames(num: int, height: int = 48, width: int = 48, seed: int = 0) -> List[np.ndarray]:
    """``num`` RGB frames: a moving bright square on a noisy background."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range(num):
        img = rng.integers(40, 80, (height, width, 3), dtype=np.uint8)
        y, x = (t * 3) % max(height - 8, 1), (t * 5) % max(width - 8, 1)
        img[y:y + 8, x:x + 8] = 220
        out.append(img)
    return out


def tone(seconds: float, freq: float = 440.0) -> np.ndarray:
    """A sine tone at :data:`SAMPLE_RATE`."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_clip(path: str, num_frames: int = 50, fps: int = 25, audio: bool = True,
               size: int = 48, seed: int = 0) -> str:
    """An ordinary H.264/AAC clip (``num_frames / fps`` seconds)."""
    write_av_clip(path, frames(num_frames, size, size, seed),
                  tone(num_frames / fps) if audio else None, fps=fps)
    return path


def write_zero_byte(path: str) -> str:
    """An empty file."""
    open(path, 'wb').close()
    return path


def write_random_bytes(path: str, size: int = 5000, seed: int = 1) -> str:
    """Random bytes with a video file name."""
    with open(path, 'wb') as f:
        f.write(np.random.default_rng(seed).bytes(size))
    return path


def write_cut(path: str, source: str, keep: str, fraction: float = 0.5) -> str:
    """``source`` with its end cut off (``keep='head'``) or its start (``keep='tail'``)."""
    data = open(source, 'rb').read()
    cut = int(len(data) * fraction)
    with open(path, 'wb') as f:
        f.write(data[:cut] if keep == 'head' else data[cut:])
    return path


def write_faststart(path: str, num_frames: int = 100, fps: int = 25) -> str:
    """A clip whose index (``moov``) is at the start of the file, as streaming sites serve."""
    with av.open(path, 'w', format='mp4', options={'movflags': 'faststart'}) as container:
        stream = container.add_stream('libx264', rate=fps)
        stream.width, stream.height, stream.pix_fmt = 48, 48, 'yuv420p'
        for i, img in enumerate(frames(num_frames)):
            frame = av.VideoFrame.from_ndarray(img, format='rgb24')
            frame.pts, frame.time_base = i, Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_index_truncated(path: str, fraction: float = 0.5) -> str:
    """A clip with its index at the start, cut in the middle of the media data: the index
    lists every frame, the file holds about ``fraction`` of them (an interrupted download)."""
    write_faststart(path)
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * fraction)])
    return path


def write_audio_only(path: str, seconds: float = 2.0) -> str:
    """An mp4 with an AAC track and no video stream."""
    with av.open(path, 'w', format='mp4') as container:
        stream = container.add_stream('aac', rate=SAMPLE_RATE, layout='mono')
        data = tone(seconds)
        for i in range(0, len(data), 1024):
            frame = av.AudioFrame.from_ndarray(data[i:i + 1024][None], format='fltp',
                                               layout='mono')
            frame.sample_rate, frame.pts = SAMPLE_RATE, i
            frame.time_base = Fraction(1, SAMPLE_RATE)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_variable_frame_rate(path: str, num_frames: int = 50) -> str:
    """A clip whose frame durations alternate between 20 ms and 100 ms (variable frame rate)."""
    with av.open(path, 'w', format='mp4') as container:
        stream = container.add_stream('libx264', rate=25)
        stream.width, stream.height, stream.pix_fmt = 48, 48, 'yuv420p'
        stream.codec_context.time_base = Fraction(1, 1000)
        pts = 0
        for i, img in enumerate(frames(num_frames)):
            frame = av.VideoFrame.from_ndarray(img, format='rgb24')
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            pts += 100 if i % 3 == 0 else 20
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def write_uhd(path: str, num_frames: int = 2) -> str:
    """A 3840 x 2160 (4K) clip of ``num_frames`` flat frames with audio."""
    imgs = [np.full((2160, 3840, 3), 60 + 40 * i, np.uint8) for i in range(num_frames)]
    write_av_clip(path, imgs, tone(num_frames / 25), preset='ultrafast')
    return path


def write_long(path: str, seconds: int = 600) -> str:
    """A ``seconds``-long clip: one 32 x 32 frame per second, no audio."""
    write_av_clip(path, frames(seconds, 32, 32), None, fps=1, preset='ultrafast')
    return path


def write_corrupt_audio(path: str, first: int, count: int, seed: int = 3) -> str:
    """An ordinary clip whose audio packets ``first .. first + count - 1`` are overwritten with
    random bytes (the container is intact)."""
    write_clip(path)
    data = bytearray(open(path, 'rb').read())
    with av.open(path) as container:
        packets = [(p.pos, p.size) for p in container.demux(container.streams.audio[0])
                   if p.size and p.pos is not None]
    rng = np.random.default_rng(seed)
    for pos, size in packets[first:first + count]:
        data[pos:pos + size] = rng.bytes(size)
    with open(path, 'wb') as f:
        f.write(bytes(data))
    return path


def write_symlink_loop(path: str, other: Optional[str] = None) -> str:
    """``path`` -> ``other`` -> ``path`` (two symbolic links pointing at each other)."""
    other = other or path + '.loop'
    os.symlink(os.path.basename(other), path)
    os.symlink(os.path.basename(path), other)
    return path
