"""Decoded-clip cache: which pipeline steps it holds, its index, and reading its shards.

A packed dataset (written by ``tools/data/pack_clips.py``, read by
:class:`~holaframe.datasets.PackedClipDataset`) stores what the expensive, deterministic head of
a video pipeline produces, so that training replays only the cheap rest of the pipeline.

**What is cached** (:func:`plan_cache`, decided from the pipeline alone):

* ``DecordInit`` (first step): the clip's ``total_frames``, ``avg_fps``, ``source_shape`` ...;
* ``DecordDecode`` and the deterministic frame-wise transforms that directly follow it
  (:data:`FRAMEWISE`: ``MouthCrop``, ``VideoResize``, ``VideoCenterCrop``): uint8 frames at the
  model's resolution;
* ``AudioDecode``: the decoded waveform (after its per-clip ``normalize``).

The frame sampler between ``DecordInit`` and ``DecordDecode`` decides which frames are stored:

* a **random** sampler (training: ``test_mode=False``): *every* frame of the clip
  (``frames='all'``), so that the sampler runs again on each read, with the same random draws as
  on the videos. The audio features of these pipelines depend on the sampled frames
  (``AudioFrameLogMel`` takes the mel frames at the sampled frames' times and standardises over
  the window; ``AudioMFCCSegments`` averages over windows between sampled frames and analyses
  only their span), so they are computed again from the cached waveform;
* a **deterministic** sampler (``test_mode=True``, ``WholeVideoSampleFrames``): only the
  sampled frames (``frames='sampled'``), and the audio feature transforms that directly follow
  ``AudioDecode`` (:data:`AUDIO_FEATURES`) are cached as well (their ``audio`` output instead
  of the waveform).

Everything else runs on every read: the sampler, random crops and flips, perturbations,
``FrameFakeMask``, ``PackAVInputs`` ... A cache therefore only serves pipelines whose cached
steps have exactly the configs it was packed with (:func:`cache_signature`); the steps after
them may change freely (e.g. another ``clip_len`` of a random sampler).

**Files** in a pack folder: ``index.json`` (:data:`INDEX_FILE`), ``errors.txt`` (clips that
could not be packed: ``file<TAB>reason`` lines, as ``bad_samples.txt``), ``shards/shard-NNNNNN.bin``
(the arrays of each clip, back to back, each aligned to :data:`ALIGN` bytes, read with
``np.memmap``) and ``shards/shard-NNNNNN.json`` (the shard's part of the index, written last: a
shard is complete when its JSON exists).

``index.json`` holds ``format``, ``version``, ``signature`` (the cached steps),
``signature_hash``, ``source`` (the dataset config that was packed), ``split``, ``shard_size``,
``shards`` (``id``, ``file``, ``bytes``, ``clips``) and ``clips``: per clip ``shard``, ``info``
(the source dataset's data info: ``file``, ``filename``, ``gt_label``, ``modify_type``,
``fake_segments`` ...), ``arrays`` (name -> ``offset``, ``shape``, ``dtype`` as a NumPy type
string, e.g. ``|u1``, ``<f4``), ``extras`` (the other results of the cached steps, e.g.
``avg_fps``, ``img_shape``) and, for a clip that could not be packed, ``error`` (the reason) and
``error_stage`` (``init``, ``frames`` or ``audio``; the arrays and extras are those of the stages
before it).
"""

import json
import os
import os.path as osp
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from holaframe.registry import TRANSFORMS

from .io import BadSampleError
from .transforms import (
    AudioDecode,
    AudioFbank,
    AudioFrameLogMel,
    AudioMFCCSegments,
    DecordDecode,
    DecordInit,
    DenseSampleFrames,
    MouthCrop,
    SampleClipFrames,
    UniformSampleFrames,
    VideoCenterCrop,
    VideoFlip,
    VideoNormalize,
    VideoRandomCrop,
    VideoResize,
    WholeVideoSampleFrames,
)

__all__ = ['CachePlan', 'ShardReader', 'plan_cache', 'cache_signature', 'signature_hash',
           'read_index', 'check_signature', 'replay_pipeline', 'jsonable', 'FORMAT', 'VERSION',
           'INDEX_FILE', 'ERRORS_FILE', 'SHARD_DIR', 'ALIGN']

FORMAT = 'holaframe-packed-clips'
VERSION = 1
INDEX_FILE = 'index.json'
ERRORS_FILE = 'errors.txt'
SHARD_DIR = 'shards'
#: Every array starts at a multiple of this many bytes of its shard.
ALIGN = 64

#: Frame samplers (between DecordInit and DecordDecode).
SAMPLERS = (DenseSampleFrames, UniformSampleFrames, SampleClipFrames, WholeVideoSampleFrames)
#: Deterministic transforms of each frame on its own, cached when they directly follow
#: DecordDecode.
FRAMEWISE = (MouthCrop, VideoResize, VideoCenterCrop)
#: Steps that only touch the frames: AudioDecode may come after them and still be cached.
VIDEO_ONLY = (VideoRandomCrop, VideoFlip, VideoNormalize)
#: Audio features, cached directly after AudioDecode when the sampler is deterministic.
AUDIO_FEATURES = (AudioFrameLogMel, AudioMFCCSegments, AudioFbank)

#: Array results stored per clip (never in ``extras``).
ARRAY_KEYS = ('imgs', 'frame_inds', 'waveform', 'audio')


@dataclass(frozen=True)
class CachePlan:
    """Positions (in the pipeline) of the steps a cache holds, and how frames are stored.

    Attributes:
        frames: ``'all'`` (every frame; random sampler) or ``'sampled'`` (deterministic one).
        init: ``DecordInit``.
        sampler: The frame sampler (runs again on every read).
        decode: ``DecordDecode``.
        framewise: Cached frame-wise transforms.
        audio: ``AudioDecode`` (None: no audio in the pipeline).
        features: Cached audio feature transforms (``frames='sampled'`` only).
    """

    frames: str
    init: int
    sampler: int
    decode: int
    framewise: Tuple[int, ...]
    audio: Optional[int]
    features: Tuple[int, ...]

    @property
    def cached(self) -> Tuple[int, ...]:
        """Steps whose configs the cache depends on (the sampler when it chose the frames)."""
        steps = [self.init, self.decode, *self.framewise]
        if self.frames == 'sampled':
            steps.append(self.sampler)
        if self.audio is not None:
            steps += [self.audio, *self.features]
        return tuple(sorted(steps))

    @property
    def audio_key(self) -> Optional[str]:
        """The stored audio array: ``'audio'`` (features) or ``'waveform'``."""
        if self.audio is None:
            return None
        return 'audio' if self.features else 'waveform'


def _step_class(step: Any, where: str) -> type:
    if not isinstance(step, dict) or 'type' not in step:
        raise TypeError(f'{where}: the pipeline must be a list of transform configs (dicts with '
                        f'a type) to be cached, got {step!r}')
    cls = TRANSFORMS.get(step['type']) if isinstance(step['type'], str) else step['type']
    if cls is None:
        raise KeyError(f'{where}: transform {step["type"]!r} is not registered')
    return cls


def plan_cache(pipeline: Sequence[dict], where: str = 'clip cache') -> CachePlan:
    """Which steps of ``pipeline`` a cache holds (see the module doc).

    Args:
        pipeline: Transform configs of a video pipeline.
        where: Prefix of error messages (the dataset or the tool).

    Raises:
        ValueError: The pipeline does not have the shape a cache supports (``DecordInit``, a
            frame sampler, ``DecordDecode`` first; ``AudioDecode`` after nothing but cached
            or video-only steps), naming the step.
    """
    classes = [_step_class(s, where) for s in pipeline]
    names = [c.__name__ for c in classes]
    if len(classes) < 3 or not issubclass(classes[0], DecordInit) \
            or not issubclass(classes[1], SAMPLERS) or not issubclass(classes[2], DecordDecode):
        raise ValueError(f'{where}: a cached pipeline starts with DecordInit, a frame sampler '
                         f'({", ".join(c.__name__ for c in SAMPLERS)}) and DecordDecode; got '
                         f'{names[:3]}')
    sampler = pipeline[1]
    deterministic = issubclass(classes[1], WholeVideoSampleFrames) or bool(
        sampler.get('test_mode', False))
    frames = 'sampled' if deterministic else 'all'
    framewise = []
    i = 3
    while i < len(classes) and issubclass(classes[i], FRAMEWISE):
        framewise.append(i)
        i += 1
    audio = next((k for k, c in enumerate(classes) if issubclass(c, AudioDecode)), None)
    features: List[int] = []
    if audio is not None:
        for k in range(i, audio):
            if not issubclass(classes[k], VIDEO_ONLY):
                raise ValueError(
                    f'{where}: cannot cache AudioDecode (step {audio}) after {names[k]} (step '
                    f'{k}), which may change what it reads; put AudioDecode before it (only '
                    f'{", ".join(c.__name__ for c in VIDEO_ONLY)} may come in between)')
        k = audio + 1
        while frames == 'sampled' and k < len(classes) and issubclass(classes[k],
                                                                     AUDIO_FEATURES):
            features.append(k)
            k += 1
    return CachePlan(frames=frames, init=0, sampler=1, decode=2, framewise=tuple(framewise),
                     audio=audio, features=tuple(features))


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON data (tuples as lists, NumPy scalars as numbers).

    Raises:
        TypeError: An array or an object JSON cannot hold.
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, type):
        return value.__name__
    raise TypeError(f'{type(value).__name__} is not plain data: {value!r:.80}')


def cache_signature(pipeline: Sequence[dict], plan: CachePlan) -> Dict[str, Any]:
    """What a cache depends on: the format, the frame mode and the configs of the cached steps
    (each step's ``type`` as its class name)."""
    steps = []
    for k in plan.cached:
        step = jsonable(dict(pipeline[k]))
        step['type'] = _step_class(pipeline[k], 'clip cache').__name__
        steps.append(step)
    return dict(format=FORMAT, version=VERSION, frames=plan.frames, steps=steps)


def signature_hash(signature: Dict[str, Any]) -> str:
    """A short hash of a :func:`cache_signature`."""
    import hashlib
    text = json.dumps(signature, sort_keys=True, separators=(',', ':'))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def read_index(path: str) -> Dict[str, Any]:
    """Load and check an ``index.json`` (format, version, every array inside its shard).

    Raises:
        FileNotFoundError: No index (the folder was not packed, or packing did not finish).
        ValueError: Not a holaframe pack index, another version, or an entry outside its shard;
            the message names the file.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path}: no pack index; pack the dataset first (python tools/data/pack_clips.py '
            f'CONFIG {osp.dirname(path) or "."} --split train) or let an interrupted run finish')
    try:
        with open(path) as f:
            index = json.load(f)
    except json.JSONDecodeError as e:
        raise ValueError(f'{path}: not valid JSON ({e})') from None
    if not isinstance(index, dict) or index.get('format') != FORMAT:
        raise ValueError(f'{path}: not a holaframe pack index (format {FORMAT!r} expected)')
    if index.get('version') != VERSION:
        raise ValueError(f'{path}: pack format version {index.get("version")}, this holaframe '
                         f'reads version {VERSION}; pack the dataset again')
    sizes = {int(s['id']): int(s['bytes']) for s in index['shards']}
    for n, clip in enumerate(index['clips']):
        shard = clip.get('shard')
        if shard not in sizes:
            raise ValueError(f'{path}: clip {n} ({clip["info"].get("file")}) names shard '
                             f'{shard}, which the index does not list')
        for name, spec in (clip.get('arrays') or {}).items():
            end = spec['offset'] + int(np.prod(spec['shape'])) * np.dtype(spec['dtype']).itemsize
            if end > sizes[shard]:
                raise ValueError(f'{path}: clip {n} ({clip["info"].get("file")}): {name} ends at '
                                 f'byte {end}, beyond the {sizes[shard]} bytes of shard {shard}')
    return index


def _describe(step: Dict[str, Any]) -> str:
    cfg = dict(step)
    kind = cfg.pop('type')
    return f'{kind}({", ".join(f"{k}={v!r}" for k, v in cfg.items())})'


def check_signature(index: Dict[str, Any], signature: Dict[str, Any], path: str) -> None:
    """Raise ValueError naming ``path`` and the first difference when the cache was packed
    for other cached steps than ``signature``'s."""
    packed = index.get('signature', {})
    if packed == signature:
        return
    if packed.get('frames') != signature['frames']:
        raise ValueError(
            f'{path}: packed with frames={packed.get("frames")!r} but this pipeline needs '
            f'frames={signature["frames"]!r} (a random sampler needs every frame, a '
            f'deterministic one the sampled frames); pack this split with its own pipeline')
    theirs, ours = packed.get('steps', []), signature['steps']
    for a, b in zip(theirs, ours):
        if a != b:
            raise ValueError(f'{path}: packed for another config: the cache holds '
                             f'{_describe(a)}, this pipeline has {_describe(b)}; pack again '
                             'into another folder')
    raise ValueError(f'{path}: packed for another config: the cache holds the steps '
                     f'{[_describe(s) for s in theirs]}, this pipeline caches '
                     f'{[_describe(s) for s in ours]}; pack again into another folder')


class ShardReader:
    """Read-only memory maps of a pack's shards, opened on first use in each process.

    Args:
        pack_dir: The pack folder.
    """

    def __init__(self, pack_dir: str) -> None:
        self.pack_dir = pack_dir
        self.shards: Dict[int, Tuple[str, int]] = {}
        self._maps: Dict[int, np.memmap] = {}

    def set_shards(self, shards: Iterable[Dict[str, Any]]) -> None:
        """The index's ``shards`` entries."""
        self.shards = {int(s['id']): (osp.join(self.pack_dir, s['file']), int(s['bytes']))
                       for s in shards}
        self._maps = {}

    def check(self, ids: Iterable[int]) -> None:
        """Raise naming the file when a shard is missing or not the size the index says."""
        for shard in ids:
            path, size = self.shards[int(shard)]
            if not osp.isfile(path):
                raise FileNotFoundError(f'{path}: shard {shard} of the pack in {self.pack_dir} '
                                        'is missing')
            actual = os.stat(path).st_size
            if actual != size:
                raise ValueError(f'{path}: shard {shard} is {actual} bytes but the index says '
                                 f'{size} (a partial copy, or a shard of another pack)')

    def array(self, shard: int, spec: Dict[str, Any]) -> np.ndarray:
        """The read-only array ``spec`` (``offset``, ``shape``, ``dtype``) of ``shard``."""
        data = self._maps.get(shard)
        if data is None:
            path, size = self.shards[shard]
            data = np.memmap(path, dtype=np.uint8, mode='r', shape=(size,))
            self._maps[shard] = data
        dtype = np.dtype(spec['dtype'])
        count = int(np.prod(spec['shape'])) * dtype.itemsize
        offset = int(spec['offset'])
        # A plain ndarray view: it keeps the map open, and indexing it gives plain arrays.
        return data[offset:offset + count].view(np.ndarray).view(dtype).reshape(spec['shape'])

    def __getstate__(self) -> Dict[str, Any]:
        state = dict(self.__dict__)
        state['_maps'] = {}  # each process maps the files itself
        return state


def _restore(value: Any) -> Any:
    """JSON lists back to the tuples the transforms produced (shapes, boxes, sizes)."""
    if isinstance(value, list):
        return tuple(_restore(v) for v in value)
    return value


def _raise_if_failed(results: Dict, stage: str) -> None:
    """A clip whose packing failed at ``stage`` raises the packing error there."""
    if results.get('pack_error') and results.get('pack_error_stage') == stage:
        raise BadSampleError(results['pack_error'])


class LoadPackedClip:
    """In place of ``DecordInit``: the results of the cached steps that are not arrays
    (``total_frames``, ``avg_fps``, ``img_shape`` ...).

    A clip that could not be packed raises :class:`~holaframe.datasets.io.BadSampleError` with
    the packing error at the step that failed (this one, :class:`GatherPackedFrames` or
    :class:`LoadPackedAudio`), after the same steps as on the video.
    """

    def __call__(self, results: Dict) -> Dict:
        _raise_if_failed(results, 'init')
        extras = results.pop('packed_extras', None) or {}
        results.update({k: _restore(v) for k, v in extras.items()})
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'


class GatherPackedFrames:
    """In place of ``DecordDecode`` and the cached frame-wise steps: the frames at
    ``frame_inds`` from the shard (a copy, ``imgs`` (T, H, W, C)).

    Args:
        reader: The pack's shards.
    """

    def __init__(self, reader: ShardReader) -> None:
        self.reader = reader

    def __call__(self, results: Dict) -> Dict:
        _raise_if_failed(results, 'frames')
        shard, arrays = results['shard'], results['packed_arrays']
        cached = self.reader.array(shard, arrays['frame_inds'])
        inds = np.asarray(results['frame_inds'], np.int64)
        pos = np.minimum(np.searchsorted(cached, inds), len(cached) - 1)
        found = cached[pos] == inds
        if not found.all():
            raise BadSampleError(
                f'{results.get("filename")}: frames {inds[~found][:5].tolist()} are not in the '
                f'cache (shard {shard} holds {len(cached)} of its {results.get("total_frames")} '
                'frames)')
        results['imgs'] = self.reader.array(shard, arrays['imgs'])[pos]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'


class LoadPackedAudio:
    """In place of ``AudioDecode`` (and the cached audio features): the stored ``waveform``
    (or ``audio``), a copy.

    ``AudioDecode(window=...)`` in a pipeline packed with every frame: the whole track is stored
    and the window of the sampled frames is cut from it as ``AudioDecode`` does (zeros before
    the window, ``audio_window`` set).

    Args:
        reader: The pack's shards.
        key: ``'waveform'`` or ``'audio'``.
        window_of: The pipeline's ``AudioDecode`` when its window must be cut here, else None.
    """

    def __init__(self, reader: ShardReader, key: str,
                 window_of: Optional[AudioDecode] = None) -> None:
        self.reader = reader
        self.key = key
        self.window_of = window_of

    def __call__(self, results: Dict) -> Dict:
        _raise_if_failed(results, 'audio')
        data = np.array(self.reader.array(results['shard'], results['packed_arrays'][self.key]))
        if self.window_of is not None and results.get('has_audio'):
            start, stop = self.window_of._window(results)  # the same window as AudioDecode's
            seg = data[start:stop]
            data = np.zeros(start + seg.size, np.float32)
            data[start:] = seg
            results['audio_window'] = (start, stop)
        results[self.key] = data
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(key={self.key!r}, window={self.window_of is not None})'


def replay_pipeline(pipeline: Sequence[dict], plan: CachePlan,
                    reader: ShardReader) -> List[Any]:
    """``pipeline`` with the cached steps replaced by reads from the shards; every other step
    (the sampler included) is kept as its config."""
    out: List[Any] = []
    for k, step in enumerate(pipeline):
        if k == plan.init:
            out.append(LoadPackedClip())
        elif k == plan.decode:
            out.append(GatherPackedFrames(reader))
        elif k == plan.audio:
            window = None
            if plan.frames == 'all' and step.get('window') is not None:
                window = TRANSFORMS.build(dict(step))
            out.append(LoadPackedAudio(reader, plan.audio_key, window))
        elif k in plan.framewise or k in plan.features:
            continue
        else:
            out.append(step)
    return out
