"""Video/audio readers (decord first, PyAV fallback) and the bad-sample error.

These are helpers, not registered components.
"""

import errno
import itertools
import os
import os.path as osp
import stat
from fractions import Fraction
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = ['BadSampleError', 'PyAVVideoReader', 'open_video', 'read_audio', 'read_audio_window',
           'check_file', 'NoAudioStreamError', 'probe_video', 'scaled_size', 'printable']

#: Frames a container's frame count may overstate the frames actually in the file (edit lists,
#: a last frame without data) before the file counts as truncated.
FRAME_COUNT_TOLERANCE = 2

#: Frames decoded forward before PyAV seeks instead (about one GOP of common encoders).
SEEK_GAP = 48


class BadSampleError(RuntimeError):
    """A sample that cannot be used (missing, empty, corrupt file or bad metadata).

    The message always starts with the offending file.
    """


class NoAudioStreamError(BadSampleError):
    """The file has no audio stream."""


def check_file(filename: str, max_bytes: Optional[int] = None) -> None:
    """Raise :class:`BadSampleError` naming ``filename`` and the cause if it cannot be a clip.

    Causes: not found, broken symbolic link, symbolic link loop, file name too long, not a
    regular file, zero bytes, larger than ``max_bytes``.

    Args:
        filename: The file.
        max_bytes: Largest accepted size in bytes (None: no limit).
    """
    try:
        info = os.stat(filename)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise BadSampleError(f'{filename}: symbolic link loop') from None
        if e.errno == errno.ENAMETOOLONG:
            raise BadSampleError(f'{filename}: file name too long') from None
        if e.errno == errno.ENOENT and osp.islink(filename):
            raise BadSampleError(f'{filename}: broken symbolic link (to '
                                 f'{os.readlink(filename)})') from None
        if e.errno == errno.ENOENT:
            raise BadSampleError(f'{filename}: file not found') from None
        raise BadSampleError(f'{filename}: cannot access ({e.strerror})') from None
    if not stat.S_ISREG(info.st_mode):
        raise BadSampleError(f'{filename}: not a regular file')
    if info.st_size == 0:
        raise BadSampleError(f'{filename}: zero-byte file')
    if max_bytes is not None and info.st_size > max_bytes:
        raise BadSampleError(f'{filename}: file size {info.st_size / 2**20:.1f} MB exceeds the '
                             f'limit of {max_bytes / 2**20:.1f} MB (max_file_size_mb)')


def probe_video(filename: str) -> Dict:
    """Container facts read from the header and the packet index, without decoding.

    Returns:
        dict: ``width``, ``height``, ``fps``, ``frames`` (from the index; 0 if unknown),
        ``duration`` (seconds; None if unknown), ``has_audio``.

    Raises:
        BadSampleError: The file cannot be opened or has no video stream.
    """
    import av
    try:
        container = av.open(filename)
    except Exception as e:  # noqa: BLE001 - PyAV raises many error types
        raise BadSampleError(f'{filename}: cannot decode video (not a readable container: '
                             f'{str(e).strip()})') from None
    with container:
        if not container.streams.video:
            kinds = sorted({s.type for s in container.streams}) or ['none']
            raise BadSampleError(f'{filename}: no video stream (streams: {", ".join(kinds)})')
        stream = container.streams.video[0]
        ctx = stream.codec_context
        fps = float(stream.average_rate or stream.guessed_rate or 0) or None
        duration = None
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / 1e6
        return dict(width=int(ctx.width or 0), height=int(ctx.height or 0), fps=fps,
                    frames=int(stream.frames or 0), duration=duration,
                    has_audio=bool(container.streams.audio))


def scaled_size(width: int, height: int, max_side: Optional[int]) -> Optional[Tuple[int, int]]:
    """``(width, height)`` with the long side reduced to ``max_side`` (even sizes, aspect kept),
    or None when the frame already fits."""
    if not max_side or max(width, height) <= max_side:
        return None
    scale = max_side / max(width, height)
    return (max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2))


class PyAVVideoReader:
    """Decord-like reader on PyAV (fallback when decord cannot open or decode a file).

    The frames are indexed by their presentation timestamps (read from the packets, no
    decoding). ``get_batch`` seeks to the key frame before each requested frame and decodes
    forward from there (consecutive requests less than :data:`SEEK_GAP` frames apart share one
    pass), so a long clip costs what is sampled, not its length; frames are converted to RGB at
    ``size`` when given (decoding stays bounded for very large frames).

    A container whose index lists more frames than the file holds (a truncated download) is
    refused with a :class:`BadSampleError` instead of being padded; up to
    :data:`FRAME_COUNT_TOLERANCE` missing frames are tolerated (the last frame repeats).

    Args:
        filename: Video file.
        size: ``(width, height)`` of the returned frames; None keeps the coded size.
    """

    def __init__(self, filename: str, size: Optional[Tuple[int, int]] = None) -> None:
        import av
        self.filename = filename
        self.size = size
        with av.open(filename) as container:
            if not container.streams.video:
                raise BadSampleError(f'{filename}: no video stream')
            stream = container.streams.video[0]
            self._fps = float(stream.average_rate or stream.guessed_rate or 25)
            listed = int(stream.frames or 0)
            pts = sorted(p.pts for p in container.demux(stream)
                         if p.size and p.pts is not None)
        if not pts:
            raise BadSampleError(f'{filename}: video stream has no frames')
        if listed and listed - len(pts) > FRAME_COUNT_TOLERANCE:
            raise BadSampleError(f'{filename}: truncated: the index lists {listed} frames but '
                                 f'the file holds {len(pts)}')
        self._pts = pts
        self._len = len(pts)

    def __len__(self) -> int:
        return self._len

    def get_avg_fps(self) -> float:
        """Average frame rate."""
        return self._fps

    def _rgb(self, frame, reformatter) -> np.ndarray:
        """RGB at ``size`` through the call's one swscale context (``frame.to_ndarray(format=)``
        builds a new, threaded one per frame: the same pixels at several times the cost)."""
        width, height = self.size if self.size is not None else (None, None)
        return reformatter.reformat(frame, width=width, height=height, format='rgb24',
                                    threads=1).to_ndarray()

    def get_batch(self, indices: Sequence[int]) -> np.ndarray:
        """Decode the frames at ``indices`` as RGB uint8 ``(N, H, W, 3)``."""
        import av
        from av.video.reformatter import VideoReformatter
        reformatter = VideoReformatter()
        wanted = sorted(set(int(i) for i in indices))
        if wanted[0] < 0 or wanted[-1] >= self._len:
            raise BadSampleError(f'{self.filename}: frame indices out of range [0, {self._len})')
        index_of = {p: i for i, p in enumerate(self._pts)}
        got = {}
        with av.open(self.filename) as container:
            stream = container.streams.video[0]
            stream.thread_type = 'AUTO'
            frames, position = None, None
            for idx in wanted:
                target = self._pts[idx]
                if frames is None or position is None or not 0 <= idx - position <= SEEK_GAP:
                    container.seek(target, stream=stream, backward=True, any_frame=False)
                    frames = container.decode(stream)
                try:
                    for frame in frames:
                        if frame.pts is None:
                            continue
                        position = index_of.get(frame.pts, position)
                        if frame.pts >= target:
                            got[idx] = self._rgb(frame, reformatter)
                            break
                except av.error.FFmpegError:
                    frames = None  # corrupt data: the next request seeks again
        missing = [i for i in wanted if i not in got]
        keys = sorted(got)
        if not keys or any(min(abs(i - k) for k in keys) > FRAME_COUNT_TOLERANCE
                           for i in missing):
            raise BadSampleError(f'{self.filename}: {len(missing)} of {len(wanted)} requested '
                                 f'frames could not be decoded (e.g. {missing[:5]})')

        def nearest(i: int) -> np.ndarray:
            if i in got:
                return got[i]
            return got[min(keys, key=lambda k: (abs(k - i), k))]

        return np.stack([nearest(int(i)) for i in indices])


class _DecordReader:
    """Wraps ``decord.VideoReader`` with the same ``get_batch`` -> ndarray interface."""

    def __init__(self, reader, size: Optional[Tuple[int, int]] = None) -> None:
        self.reader = reader
        self.size = size

    def __len__(self) -> int:
        return len(self.reader)

    def get_avg_fps(self) -> float:
        return float(self.reader.get_avg_fps())

    def get_batch(self, indices: Sequence[int]) -> np.ndarray:
        return self.reader.get_batch(list(indices)).asnumpy()


def open_video(filename: str, backend: str = 'decord', num_threads: int = 1,
               max_side: Optional[int] = None, max_duration: Optional[float] = None,
               max_bytes: Optional[int] = None):
    """Open a video, trying decord first and PyAV as a fallback, within the given limits.

    The container is probed first (header and index only, see :func:`probe_video`): a file
    over ``max_bytes`` or longer than ``max_duration`` seconds is refused before anything is
    decoded, and frames whose long side exceeds ``max_side`` are decoded scaled down to it
    (aspect ratio kept), so one sampled 4K frame costs what a ``max_side`` frame costs.

    Args:
        filename: Video file.
        backend: ``'decord'`` (with PyAV fallback) or ``'pyav'``.
        num_threads: decord decoding threads.
        max_side: Longest frame side decoded (None: coded size).
        max_duration: Longest accepted clip in seconds (None: no limit).
        max_bytes: Largest accepted file size (None: no limit).

    Returns:
        A reader with ``__len__``, ``get_avg_fps()``, ``get_batch(indices) -> ndarray`` and
        ``info`` (the probe, plus ``decode_size``).
    """
    if backend not in ('decord', 'pyav'):
        raise ValueError(f'unknown video backend {backend!r}')
    check_file(filename, max_bytes)
    info = probe_video(filename)
    if max_duration is not None and info['duration'] is not None \
            and info['duration'] > max_duration:
        raise BadSampleError(f'{filename}: duration {info["duration"]:.1f} s exceeds the limit '
                             f'of {max_duration:g} s (max_duration)')
    size = scaled_size(info['width'], info['height'], max_side)
    info['decode_size'] = size
    errors: List[str] = []
    if backend == 'decord':
        try:
            import decord
            kwargs = dict(width=size[0], height=size[1]) if size else {}
            reader = decord.VideoReader(filename, num_threads=num_threads, **kwargs)
            if len(reader) <= 0:
                raise ValueError('no frames')
            if info['frames'] and info['frames'] - len(reader) > FRAME_COUNT_TOLERANCE:
                raise ValueError(f'the index lists {info["frames"]} frames, decord found '
                                 f'{len(reader)}')
            reader = _DecordReader(reader, size)
            reader.info = info
            return reader
        except Exception as e:  # decord raises its own error types
            errors.append(f'decord: {str(e).strip().splitlines()[-1] if str(e) else e!r}')
    try:
        reader = PyAVVideoReader(filename, size)
        reader.info = info
        return reader
    except BadSampleError:
        raise
    except Exception as e:
        errors.append(f'pyav: {e}')
    raise BadSampleError(f'{filename}: cannot decode video ({"; ".join(errors)})')


def _is_fast_path(ctx, sample_rate: int) -> bool:
    """Planar samples already at ``sample_rate``: no resampling, the channels are averaged."""
    return ctx.sample_rate == sample_rate and ctx.format is not None and ctx.format.is_planar


_AUDIO_DTYPES = {'fltp': np.float32, 'dblp': np.float64, 's16p': np.int16, 's32p': np.int32,
                 'u8p': np.uint8}


def _frame_samples(frame) -> np.ndarray:
    """A planar frame's samples ``(channels, n)`` (or ``(n,)`` for mono), without a copy.

    Same values as ``frame.to_ndarray()`` (which stacks the planes into a new array per frame).
    The arrays view the frame's buffers (they keep the frame alive).
    """
    dtype, n = _AUDIO_DTYPES.get(frame.format.name), frame.samples
    if dtype is None:
        return frame.to_ndarray()  # raises ValueError (no NumPy dtype), as it always did
    planes = frame.planes
    if len(planes) == 1:
        return np.frombuffer(planes[0], dtype, count=n)
    return np.stack([np.frombuffer(p, dtype, count=n) for p in planes])


def _mono(chunks: List[np.ndarray]) -> np.ndarray:
    """Concatenate per-frame samples and average the channels (as the fast path always did)."""
    if not chunks:
        return np.zeros(0, np.float32)
    if chunks[0].ndim == 1:
        return np.concatenate(chunks).astype(np.float32, copy=False)
    data = np.concatenate(chunks, axis=1)
    return data.mean(0).astype(np.float32, copy=False)


#: Largest share of undecodable audio packets repaired with silence; more is an error.
MAX_CORRUPT_AUDIO_FRACTION = 0.25


def _decode_all_pyav(container, stream, sample_rate: int,
                     max_corrupt_fraction: float = MAX_CORRUPT_AUDIO_FRACTION,
                     stats: Optional[Dict] = None) -> np.ndarray:
    """The whole track as mono float32 at ``sample_rate`` (frames in decoding order).

    Packets are decoded one by one: a packet the decoder rejects (corrupt data) is replaced by
    silence of its duration, so the rest of the track keeps its place in time. More than
    ``max_corrupt_fraction`` of rejected packets raises :class:`BadSampleError`. ``stats``
    (if given) receives ``packets`` and ``corrupt_packets``.
    """
    import av
    ctx = stream.codec_context
    fast = _is_fast_path(ctx, sample_rate)
    channels = int(getattr(getattr(ctx, 'layout', None), 'nb_channels', 0) or
                   getattr(ctx, 'channels', 1) or 1)
    resampler = None if fast else av.AudioResampler(format='flt', layout='mono',
                                                    rate=sample_rate)
    chunks: List[np.ndarray] = []
    packets = corrupt = 0

    def add(frame) -> None:
        if fast:
            chunks.append(_frame_samples(frame))
        else:
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))

    for packet in container.demux(stream):
        if packet.size == 0:  # the demuxer's end-of-stream packet
            continue
        packets += 1
        try:
            frames = packet.decode()
        except av.error.FFmpegError:
            corrupt += 1
            seconds = (float(packet.duration * packet.time_base) if packet.duration and
                       packet.time_base else (ctx.frame_size or 1024) / (ctx.sample_rate or
                                                                          sample_rate))
            n = int(round(seconds * sample_rate))
            if fast:
                chunks.append(np.zeros(n if channels == 1 else (channels, n), np.float32))
            else:
                chunks.append(np.zeros(n, np.float32))
            continue
        for frame in frames:
            add(frame)
    try:
        for frame in stream.decode(None):  # frames still in the decoder
            add(frame)
    except av.error.FFmpegError:
        pass
    if resampler is not None:
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    if stats is not None:
        stats.update(packets=packets, corrupt_packets=corrupt)
    if packets and corrupt > max_corrupt_fraction * packets:
        name = getattr(container, 'name', '<audio>')
        raise BadSampleError(f'{name}: {corrupt} of {packets} audio packets could not be '
                             f'decoded (more than {max_corrupt_fraction:.0%}): corrupt audio')
    if not chunks:
        return np.zeros(0, np.float32)
    if fast:
        return _mono(chunks)
    return np.concatenate(chunks).astype(np.float32)


def _read_audio_pyav(filename: str, sample_rate: int,
                     max_corrupt_fraction: float = MAX_CORRUPT_AUDIO_FRACTION,
                     stats: Optional[Dict] = None) -> Optional[np.ndarray]:
    import av
    with av.open(filename) as container:
        if not container.streams.audio:
            return None
        return _decode_all_pyav(container, container.streams.audio[0], sample_rate,
                                max_corrupt_fraction, stats)


def _expected_audio_samples(filename: str, sample_rate: int) -> Optional[int]:
    """Samples the container's index promises for the audio track (None if unknown)."""
    import av
    try:
        with av.open(filename) as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            if stream.duration is None or stream.time_base is None:
                return None
            return int(float(stream.duration * stream.time_base) * sample_rate)
    except Exception:  # noqa: BLE001 - only a sanity check of another reader's result
        return None


def _check_audio_length(filename: str, wave: np.ndarray, sample_rate: int) -> np.ndarray:
    """Refuse a decoded track much shorter than the index says (a reader that stopped at the
    first corrupt packet)."""
    expected = _expected_audio_samples(filename, sample_rate)
    if expected and wave.size < 0.9 * expected - 2048:
        raise BadSampleError(f'{filename}: the audio stops at {wave.size / sample_rate:.2f} s '
                             f'but the index says {expected / sample_rate:.2f} s')
    return wave


#: AAC frames decoded and dropped after a seek (the MDCT overlap makes the first one wrong).
AUDIO_PREROLL_FRAMES = 2


def _read_audio_window_pyav(filename: str, sample_rate: int, start: int, stop: int,
                            max_corrupt_fraction: float = MAX_CORRUPT_AUDIO_FRACTION,
                            stats: Optional[Dict] = None
                            ) -> Optional[Tuple[np.ndarray, bool]]:
    """Samples ``[start, stop)`` of :func:`_read_audio_pyav`'s waveform, and whether it is
    non-empty; None without an audio stream.

    The index of a sample is its pts minus the pts of the track's first decoded frame (that is
    where the full decode puts it). For AAC at ``sample_rate`` (planar, time base
    ``1 / sample_rate``) the demuxer seeks to at least :data:`AUDIO_PREROLL_FRAMES` frames
    (and 2048 samples) before ``start``; those frames are decoded and dropped, so the kept
    samples equal the full decode's (bit-exact on the synthetic AAC clips, tested). Any other
    track, a seek that lands too late, frames with gaps or a packet the decoder rejects fall
    back to decoding everything (corrupt packets as silence, see :func:`_decode_all_pyav`) and
    slicing.
    """
    import av
    chunks = None
    try:
        with av.open(filename) as container:
            if not container.streams.audio:
                return None
            stream = container.streams.audio[0]
            ctx = stream.codec_context
            if not (ctx.name == 'aac' and _is_fast_path(ctx, sample_rate)
                    and stream.time_base == Fraction(1, sample_rate)):
                wave = _decode_all_pyav(container, stream, sample_rate, max_corrupt_fraction,
                                        stats)
                return wave[start:stop], wave.size > 0
            frames = container.decode(stream)
            first = next(frames, None)
            if first is None:
                return np.zeros(0, np.float32), False
            base = first.pts
            frame_size = max(int(ctx.frame_size or 0), first.samples, 1024)
            preroll = AUDIO_PREROLL_FRAMES * frame_size
            seeked = base is not None and start - preroll > first.samples
            if base is None:
                chunks = None
            elif seeked:
                container.seek(base + start - preroll, stream=stream, backward=True)
                chunks = _collect_window(container.decode(stream), base, start, stop,
                                         AUDIO_PREROLL_FRAMES, start - preroll)
            else:
                chunks = _collect_window(itertools.chain([first], frames), base, start, stop,
                                         0, 0)
    except av.error.FFmpegError:
        chunks = None  # a packet the decoder rejects: the robust full decode below
    if chunks is None:  # unexpected timestamps or corrupt data: decode everything
        wave = _read_audio_pyav(filename, sample_rate, max_corrupt_fraction, stats)
        return wave[start:stop], wave.size > 0
    if stats is not None:
        stats.setdefault('corrupt_packets', 0)
    return _mono(chunks), True


def _collect_window(frames, base: int, start: int, stop: int, drop: int,
                    latest: int) -> Optional[List[np.ndarray]]:
    """Per-frame samples clipped to ``[start, stop)`` (indices relative to pts ``base``).

    The first ``drop`` frames are decoded and dropped: the first frame must start at or before
    ``latest``, the first kept one at or before ``start``, and the frames must be contiguous;
    otherwise None.
    """
    chunks: List[np.ndarray] = []
    expected = None
    for k, frame in enumerate(frames):
        if frame.pts is None:
            return None
        pos = frame.pts - base
        if (k == 0 and pos > latest) or (k == drop and pos > start):
            return None  # the seek landed too late: the pre-roll would reach into the window
        if expected is not None and pos != expected:
            return None  # a gap or an overlap: only the full decode defines the layout
        expected = pos + frame.samples
        if k < drop or expected <= start:
            continue
        if pos >= stop:
            break
        chunks.append(_frame_samples(frame)[..., max(start - pos, 0):stop - pos])
        if expected >= stop:
            break
    return chunks


def _read_with_fallback(filename: str, backend: str, pyav_read: Callable,
                        decord_read: Callable):
    """Run the readers in ``backend`` order; errors name the file."""
    check_file(filename)
    if backend not in ('decord', 'pyav'):
        raise ValueError(f'unknown audio backend {backend!r}')
    errors = []
    order = ('decord', 'pyav') if backend == 'decord' else ('pyav', 'decord')
    for name in order:
        try:
            if name == 'pyav':
                out = pyav_read()
                if out is None:
                    raise NoAudioStreamError(f'{filename}: no audio stream')
                return out
            return decord_read()
        except NoAudioStreamError:
            raise
        except Exception as e:  # decord raises its own error types
            msg = str(e).strip().splitlines()[-1] if str(e).strip() else repr(e)
            if name == 'decord' and "Can't find audio stream" in str(e):
                raise NoAudioStreamError(f'{filename}: no audio stream') from e
            errors.append(f'{name}: {msg}')
    raise BadSampleError(f'{filename}: cannot decode audio ({"; ".join(errors)})')


def _read_audio_decord(filename: str, sample_rate: int) -> np.ndarray:
    import decord
    reader = decord.AudioReader(filename, sample_rate=sample_rate, mono=True)
    wave = reader[:].asnumpy().reshape(-1).astype(np.float32)
    # decord stops silently at the first corrupt packet: compare with the index.
    return _check_audio_length(filename, wave, sample_rate)


def read_audio(filename: str, sample_rate: int = 16000, backend: str = 'decord',
               max_corrupt_fraction: float = MAX_CORRUPT_AUDIO_FRACTION,
               stats: Optional[Dict] = None) -> np.ndarray:
    """Decode the audio of ``filename`` as a mono float32 waveform at ``sample_rate``.

    With PyAV, packets the decoder rejects become silence of their duration (up to
    ``max_corrupt_fraction`` of the packets; more is an error).

    Args:
        filename: Media file.
        sample_rate: Target rate in Hz.
        backend: The reader tried first, the other one is the fallback: ``'pyav'`` (about 5x
            faster than decord's AudioReader on AAC here) or ``'decord'``.
        max_corrupt_fraction: Largest share of corrupt packets repaired with silence.
        stats (dict, optional): Receives ``corrupt_packets`` (PyAV reader).

    Returns:
        The waveform ``(N,)``.

    Raises:
        NoAudioStreamError: The file has no audio stream.
        BadSampleError: The audio cannot be decoded.
    """
    return _read_with_fallback(
        filename, backend,
        lambda: _read_audio_pyav(filename, sample_rate, max_corrupt_fraction, stats),
        lambda: _read_audio_decord(filename, sample_rate))


def read_audio_window(filename: str, start: int, stop: int, sample_rate: int = 16000,
                      backend: str = 'pyav',
                      max_corrupt_fraction: float = MAX_CORRUPT_AUDIO_FRACTION,
                      stats: Optional[Dict] = None) -> Tuple[np.ndarray, bool]:
    """Samples ``[start, stop)`` of ``read_audio(filename, sample_rate, backend)``.

    With PyAV on AAC only the window (plus a pre-roll of two AAC frames before it, decoded and
    dropped) is decoded; the samples equal the full decode's. Other tracks, and the decord
    reader, decode everything and slice.

    Args:
        filename: Media file.
        start: First sample (>= 0).
        stop: End sample (exclusive).
        sample_rate: Target rate in Hz.
        backend: ``'pyav'`` or ``'decord'`` (the other one is the fallback).
        max_corrupt_fraction: Largest share of corrupt packets repaired with silence.
        stats (dict, optional): Receives ``corrupt_packets`` (PyAV reader).

    Returns:
        ``(segment, has_audio)``: the samples (shorter than ``stop - start`` where the track
        ends earlier) and whether the track has any sample at all.

    Raises:
        NoAudioStreamError: The file has no audio stream.
        BadSampleError: The audio cannot be decoded.
    """
    start, stop = int(start), int(stop)
    if start < 0 or stop < start:
        raise ValueError(f'bad audio window [{start}, {stop})')

    def decord_read():
        wave = _read_audio_decord(filename, sample_rate)
        return wave[start:stop], wave.size > 0

    return _read_with_fallback(
        filename, backend,
        lambda: _read_audio_window_pyav(filename, sample_rate, start, stop,
                                        max_corrupt_fraction, stats),
        decord_read)


def default_work_dir() -> Optional[str]:
    """The current MMEngine run's work dir, if a runner has set up its logger.

    MMEngine's runner writes its log to ``<work_dir>/<timestamp>/<timestamp>.log``; the work dir
    is two levels above that file.
    """
    import logging

    from mmengine.logging import MMLogger
    if not MMLogger._instance_dict:
        return None
    logger = MMLogger.get_current_instance()
    for handler in logger.handlers:
        if isinstance(handler, logging.FileHandler):
            return osp.dirname(osp.dirname(osp.abspath(handler.baseFilename)))
    return None


def printable(name: str) -> str:
    """``name`` with bytes that are not valid UTF-8 (surrogate escapes) written as ``\\xNN``."""
    return os.fsencode(name).decode('utf-8', 'backslashreplace') if isinstance(name, str) \
        else str(name)


def record_bad_sample(list_file: str, filename: str, reason: str) -> None:
    """Append ``filename<TAB>reason`` to ``list_file`` (one line, safe across workers).

    File names that are not valid UTF-8 are written with ``\\xNN`` escapes.
    """
    os.makedirs(osp.dirname(osp.abspath(list_file)), exist_ok=True)
    reason = ' '.join(printable(str(reason)).split())
    with open(list_file, 'a', encoding='utf-8') as f:
        f.write(f'{printable(filename)}\t{reason}\n')
