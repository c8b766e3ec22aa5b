"""Write a decoded-clip cache (format: :mod:`holaframe.datasets.clip_cache`).

:func:`pack_dataset` runs the cached steps of a pipeline on every clip of a dataset, in
parallel processes, one shard (a run of consecutive clips) per task, and writes the shards and
the index. It is resumable: a shard is written to a temporary file and renamed when complete,
its JSON last; a rerun keeps the complete shards and packs the others. A clip that fails (corrupt
video, no audio with ``no_audio='error'``, ...) is recorded with its reason and the run goes on.
``tools/data/pack_clips.py`` is its command line.
"""

import contextlib
import copy
import glob
import json
import math
import multiprocessing
import os
import os.path as osp
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
from tqdm import tqdm

from holaframe.registry import TRANSFORMS
from holaframe.utils.atomic_io import atomic_open, atomic_write_text

from .clip_cache import (
    ALIGN,
    ARRAY_KEYS,
    ERRORS_FILE,
    FORMAT,
    INDEX_FILE,
    SHARD_DIR,
    VERSION,
    CachePlan,
    cache_signature,
    jsonable,
    plan_cache,
    signature_hash,
)
from .io import BadSampleError, printable

__all__ = ['ArrayWriter', 'ClipPacker', 'pack_shard', 'pack_dataset', 'shard_name']

#: Frames decoded (and written) at a time when every frame of a clip is stored.
CHUNK_FRAMES = 32


def shard_name(shard: int) -> str:
    """File stem of shard ``shard``."""
    return f'shard-{shard:06d}'


class ArrayWriter:
    """Appends arrays to an open binary file, each starting at a multiple of ``ALIGN`` bytes.

    Args:
        f: The file (opened for binary writing, positioned at its start).
    """

    def __init__(self, f) -> None:
        self.f = f
        self.pos = 0

    def write(self, array: np.ndarray) -> Dict[str, Any]:
        """Write one array; its spec (``offset``, ``shape``, ``dtype``)."""
        return self.write_chunks([array])

    def write_chunks(self, chunks: Iterable[np.ndarray]) -> Dict[str, Any]:
        """Write one array given as consecutive pieces along its first axis; its spec."""
        pad = (-self.pos) % ALIGN
        if pad:
            self.f.write(b'\0' * pad)
            self.pos += pad
        offset, rows, tail, dtype = self.pos, 0, None, None
        for chunk in chunks:
            chunk = np.ascontiguousarray(chunk)
            if tail is None:
                tail, dtype = chunk.shape[1:], chunk.dtype
            elif chunk.shape[1:] != tail or chunk.dtype != dtype:
                raise ValueError(f'array pieces differ: {chunk.dtype} {chunk.shape[1:]} after '
                                 f'{dtype} {tail}')
            self.f.write(chunk.reshape(-1).view(np.uint8))
            self.pos += chunk.nbytes
            rows += len(chunk)
        if tail is None:
            raise ValueError('no data to write')
        return dict(offset=offset, shape=[rows, *tail], dtype=dtype.str)

    def rollback(self, pos: int) -> None:
        """Drop everything written after ``pos``."""
        self.f.seek(pos)
        self.f.truncate()
        self.pos = pos


class ClipPacker:
    """Runs the cached steps of a pipeline on one clip and writes their arrays.

    Every frame (``plan.frames == 'all'``) is decoded in pieces of ``chunk_frames`` and passed
    through the cached frame-wise transforms piece by piece, so a long clip never needs all its
    decoded frames in memory. ``AudioDecode(window=...)`` decodes the whole track there (the
    window is cut when the clip is read).

    Args:
        pipeline: The video pipeline (configs).
        plan: Its :class:`~holaframe.datasets.clip_cache.CachePlan`.
        chunk_frames: Frames decoded at a time.
    """

    def __init__(self, pipeline: Sequence[dict], plan: CachePlan,
                 chunk_frames: int = CHUNK_FRAMES) -> None:

        def build(k: int, **override):
            return TRANSFORMS.build(dict(copy.deepcopy(pipeline[k]), **override))

        self.plan = plan
        self.chunk_frames = chunk_frames
        self.init = build(plan.init)
        self.sampler = build(plan.sampler) if plan.frames == 'sampled' else None
        self.decode = build(plan.decode)
        self.framewise = [build(k) for k in plan.framewise]
        self.audio = None
        if plan.audio is not None:
            self.audio = build(plan.audio, window=None) if plan.frames == 'all' else \
                build(plan.audio)
        self.features = [build(k) for k in plan.features]

    def _frames(self, results: Dict, reader, source: np.ndarray, writer: ArrayWriter,
                first: Dict) -> Dict[str, Any]:
        """Decode and transform the frames ``source`` piece by piece into ``writer``; the
        first piece's results go into ``first``."""

        def pieces() -> Iterator[np.ndarray]:
            for s in range(0, len(source), self.chunk_frames):
                piece = dict(results, video_reader=reader,
                             frame_inds=source[s:s + self.chunk_frames])
                piece = self.decode(piece)
                for t in self.framewise:
                    piece = t(piece)
                if not first:
                    first.update(piece)
                yield piece['imgs']

        return writer.write_chunks(pieces())

    def pack(self, info: Dict, writer: ArrayWriter) -> Dict[str, Any]:
        """Write the arrays of clip ``info``; its index entry.

        Returns:
            ``info`` (the data info), ``arrays`` (name -> spec: ``imgs``, ``frame_inds`` (the
            source frame index of each stored frame), ``waveform`` or ``audio``) and ``extras``
            (the other results of the cached steps). When a step fails: ``error`` (the reason,
            starting with the file) and ``error_stage`` (``'init'``, ``'frames'`` or
            ``'audio'``), with the arrays and extras of the stages before it, so that reading
            the clip fails at the same point of the pipeline as reading the video does (after
            the same random draws).
        """
        entry: Dict[str, Any] = dict(info=_plain_info(info), arrays={})
        results = copy.deepcopy(info)
        stage, keep = 'init', writer.pos
        try:
            results = self.init(results)
            reader = results.pop('video_reader')
            stage = 'frames'
            if self.sampler is None:
                source = np.arange(int(results['total_frames']), dtype=np.int64)
            else:
                results = self.sampler(results)
                source = np.unique(np.asarray(results['frame_inds'], np.int64))
            first: Dict = {}
            imgs = self._frames(results, reader, source, writer, first)
            entry['arrays'].update(imgs=imgs, frame_inds=writer.write(source))
            keep = writer.pos
            results.update({k: v for k, v in first.items()
                            if k not in ARRAY_KEYS and k != 'video_reader'})
            if self.audio is not None:
                stage = 'audio'
                results = self.audio(results)
                for t in self.features:
                    results = t(results)
                entry['arrays'][self.plan.audio_key] = writer.write(
                    np.asarray(results[self.plan.audio_key]))
        except Exception as e:  # one bad clip: recorded, the shard goes on
            writer.rollback(keep)
            entry.update(error=_reason(e, info.get('filename')), error_stage=stage)
        entry['extras'] = self._extras(info, results)
        return entry

    @staticmethod
    def _extras(info: Dict, results: Dict) -> Dict[str, Any]:
        """The results of the cached steps that are not arrays and not the data info's."""
        return _json_fields(
            results, lambda k, v: not (k in ARRAY_KEYS or k == 'video_reader' or
                                       (k in info and _same(info[k], v))),
            'the result of the cached steps', info.get('filename'))


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001 - arrays and odd types: treat as changed
        return False


def _reason(error: BaseException, filename: Any) -> str:
    """The error as the datasets report it: a message starting with the file."""
    if isinstance(error, BadSampleError):
        return str(error)
    return f'{filename}: {type(error).__name__}: {error}'


def _json_fields(fields: Dict, keep: Callable[[str, Any], bool], what: str,
                 filename: Any) -> Dict[str, Any]:
    """The ``fields`` that ``keep(key, value)`` accepts, as plain JSON data.

    Raises:
        TypeError: A field JSON cannot hold, naming the file and the field.
    """
    out = {}
    for key, value in fields.items():
        if not keep(key, value):
            continue
        try:
            out[key] = jsonable(value)
        except TypeError as e:
            raise TypeError(f'{filename}: {what} {key!r} cannot be stored in the index '
                            f'({e})') from None
    return out


def _plain_info(info: Dict) -> Dict[str, Any]:
    """The data info as stored in the index (without the dataset's ``sample_idx``)."""
    return _json_fields(info, lambda k, v: k != 'sample_idx', 'the data info field',
                        info.get('filename'))


def pack_shard(out_dir: str, shard: int, shard_size: int, infos: Sequence[Dict],
               pipeline: Sequence[dict], progress: Optional[Callable[[int], Any]] = None
               ) -> Dict[str, Any]:
    """Pack the clips ``infos`` into shard ``shard`` of ``out_dir``.

    The binary is written to a temporary file and renamed when complete, then the shard's JSON
    (its part of the index, the mark of a finished shard) the same way.

    Args:
        out_dir: The pack folder.
        shard: Shard id.
        shard_size: Clips per shard of this pack (recorded).
        infos: Data infos of the shard's clips, in order.
        pipeline: The video pipeline (configs).
        progress: Called with 1 after each clip.

    Returns:
        The shard's JSON content.
    """
    plan = plan_cache(pipeline, 'pack_clips')
    packer = ClipPacker(pipeline, plan)
    name = shard_name(shard)
    rel_bin = f'{SHARD_DIR}/{name}.bin'
    clips = []
    with atomic_open(osp.join(out_dir, rel_bin), 'wb') as f:
        writer = ArrayWriter(f)
        for info in infos:
            clips.append(packer.pack(info, writer))
            if progress is not None:
                progress(1)
        size = writer.pos
    meta = dict(format=FORMAT, version=VERSION,
                signature_hash=signature_hash(cache_signature(pipeline, plan)), shard=shard,
                shard_size=shard_size, file=rel_bin, bytes=size,
                files=[info.get('file') for info in infos], clips=clips)
    atomic_write_text(osp.join(out_dir, SHARD_DIR, f'{name}.json'),
                      json.dumps(meta, separators=(',', ':')))
    return meta


# ----------------------------------------------------------------------------- the whole run
_PROGRESS = None  # the progress queue of a worker process


def _init_worker(queue, modules: Sequence[str]) -> None:
    """One compute thread per worker (the workers are the parallelism); custom modules."""
    import importlib

    import cv2
    import torch
    global _PROGRESS
    _PROGRESS = queue
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    for module in modules:
        importlib.import_module(module)


def _pack_shard_task(*args) -> Dict[str, Any]:
    return pack_shard(*args, progress=_PROGRESS.put)


@contextlib.contextmanager
def _locked(out_dir: str) -> Iterator[None]:
    """Refuse a second packing run writing the same folder at the same time."""
    import fcntl
    path = osp.join(out_dir, '.pack.lock')
    with open(path, 'w') as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise RuntimeError(f'{out_dir}: another packing run is writing this folder ({path} '
                               'is locked)') from None
        yield


def _read_json(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError):
        return None  # unreadable: that shard is packed again


def _check_existing(out_dir: str, num_shards: int, shard_size: int, sig_hash: str) -> None:
    """Raise ValueError when the folder holds shards of another pipeline, shard size or
    dataset."""
    again = f'pack into another folder or delete {out_dir}'
    for path in sorted(glob.glob(osp.join(out_dir, SHARD_DIR, 'shard-*.json'))):
        meta = _read_json(path)
        if meta is None:
            continue
        if meta.get('signature_hash') != sig_hash:
            raise ValueError(f'{path}: written for another pipeline (the cached steps differ); '
                             f'{again}')
        if meta.get('shard_size') != shard_size:
            raise ValueError(f'{path}: written with shard size {meta.get("shard_size")}, this '
                             f'run uses {shard_size}; use that size, or {again}')
        if meta.get('shard', -1) >= num_shards:
            raise ValueError(f'{path}: shard {meta.get("shard")} beyond the {num_shards} '
                             f'shards of this dataset (the dataset changed since it was '
                             f'written); {again}')


def _finished_shard(out_dir: str, shard: int, shard_size: int,
                    files: List[Any]) -> Optional[Dict[str, Any]]:
    """The JSON of a complete shard written for these clips, None when it must be packed.

    Raises:
        ValueError: The shard holds other clips.
    """
    path = osp.join(out_dir, SHARD_DIR, f'{shard_name(shard)}.json')
    meta = _read_json(path) if osp.isfile(path) else None
    if meta is None:
        return None
    if meta.get('files') != files:
        raise ValueError(f'{path}: holds other clips than the dataset\'s clips '
                         f'{shard * shard_size}-{shard * shard_size + len(files) - 1} (the '
                         f'dataset changed since it was written); pack into another folder or '
                         f'delete {out_dir}')
    binary = osp.join(out_dir, meta['file'])
    if not osp.isfile(binary) or os.stat(binary).st_size != meta['bytes']:
        return None  # the binary is missing or truncated: pack it again
    return meta


def _error_lines(load_failures: Sequence[Dict], metas: Sequence[Dict]) -> str:
    lines = [(f.get('filename'), f.get('error')) for f in load_failures]
    lines += [(c['info'].get('filename'), c['error']) for m in metas for c in m['clips']
              if 'error' in c]
    return ''.join(f'{printable(str(name))}\t{" ".join(printable(str(why)).split())}\n'
                   for name, why in lines)


def pack_dataset(dataset, pipeline: Sequence[dict], out_dir: str, shard_size: int = 128,
                 workers: int = 1, progress: bool = True, source: Optional[Dict] = None,
                 split: Optional[str] = None, import_modules: Sequence[str] = ()
                 ) -> Dict[str, Any]:
    """Pack every clip of ``dataset`` through the cached steps of ``pipeline`` into ``out_dir``.

    Shard ``s`` holds the dataset's clips ``[s * shard_size, (s + 1) * shard_size)``. Complete
    shards of an earlier run with the same pipeline, shard size and clips are kept; temporary
    files of an interrupted run are removed. ``index.json`` and ``errors.txt`` are rewritten at
    the end.

    Args:
        dataset: A holaframe dataset (its data infos are packed; its own pipeline is unused).
        pipeline: The video pipeline whose cached steps are run.
        out_dir: The pack folder (created).
        shard_size: Clips per shard.
        workers: Processes (``<= 1``: in this process).
        progress: Show a progress bar over the clips (standard error).
        source: The dataset's config, recorded in the index.
        split: The dataloader the dataset comes from, recorded in the index.
        import_modules: Modules the worker processes import first (custom transforms).

    Returns:
        A summary: ``clips``, ``packed``, ``failed``, ``load_failures``, ``shards``,
        ``shards_kept``, ``bytes``, ``index``, ``errors``.
    """
    if shard_size < 1:
        raise ValueError(f'shard_size must be >= 1, got {shard_size}')
    plan = plan_cache(pipeline, 'pack_clips')
    signature = cache_signature(pipeline, plan)
    sig_hash = signature_hash(signature)
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    num_shards = math.ceil(len(infos) / shard_size)
    chunks = [infos[s * shard_size:(s + 1) * shard_size] for s in range(num_shards)]
    os.makedirs(osp.join(out_dir, SHARD_DIR), exist_ok=True)
    with _locked(out_dir):
        for tmp in glob.glob(osp.join(out_dir, SHARD_DIR, '.shard-*.tmp')) + \
                glob.glob(osp.join(out_dir, '.*.tmp')):
            os.remove(tmp)  # left by an interrupted run
        _check_existing(out_dir, num_shards, shard_size, sig_hash)
        metas: Dict[int, Dict] = {}
        for s, chunk in enumerate(chunks):
            meta = _finished_shard(out_dir, s, shard_size, [i.get('file') for i in chunk])
            if meta is not None:
                metas[s] = meta
        kept = len(metas)
        todo = [s for s in range(num_shards) if s not in metas]
        bar = tqdm(total=len(infos), initial=sum(len(m['clips']) for m in metas.values()),
                   desc='pack', unit='clip', file=sys.stderr, disable=not progress)
        args = [(out_dir, s, shard_size, chunks[s], list(pipeline)) for s in todo]
        if workers <= 1:
            for a in args:
                metas[a[1]] = pack_shard(*a, progress=bar.update)
        else:
            metas.update(_pack_parallel(args, workers, bar, import_modules))
        bar.close()

        ordered = [metas[s] for s in range(num_shards)]
        clips = [dict(shard=m['shard'], **c) for m in ordered for c in m['clips']]
        failed = sum('error' in c for c in clips)
        load_failures = list(dataset.metainfo.get('load_failures') or [])
        index = dict(
            format=FORMAT, version=VERSION, signature=signature, signature_hash=sig_hash,
            source=jsonable(source) if source is not None else None, split=split,
            shard_size=shard_size, byte_order=sys.byteorder,
            classes=jsonable(list(dataset.metainfo.get('classes') or [])),
            num_clips=len(clips), num_failed=failed, num_load_failures=len(load_failures),
            shards=[dict(id=m['shard'], file=m['file'], bytes=m['bytes'], clips=len(m['clips']))
                    for m in ordered],
            clips=clips)
        index_path = osp.join(out_dir, INDEX_FILE)
        errors_path = osp.join(out_dir, ERRORS_FILE)
        atomic_write_text(errors_path, _error_lines(load_failures, ordered))
        atomic_write_text(index_path, json.dumps(index, separators=(',', ':')))
    return dict(clips=len(clips), packed=len(clips) - failed, failed=failed,
                load_failures=len(load_failures), shards=num_shards, shards_kept=kept,
                bytes=sum(m['bytes'] for m in ordered), index=index_path, errors=errors_path)


def _pack_parallel(args: List[Tuple], workers: int, bar: tqdm,
                   import_modules: Sequence[str]) -> Dict[int, Dict]:
    """Pack the shards ``args`` in ``workers`` spawned processes (at most two tasks queued per
    worker); the progress bar advances per clip."""
    import queue as queue_module
    ctx = multiprocessing.get_context('spawn')
    progress = ctx.Queue()
    metas: Dict[int, Dict] = {}

    def drain() -> None:
        while True:
            try:
                bar.update(progress.get_nowait())
            except queue_module.Empty:
                return

    todo = iter(args)
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker,
                             initargs=(progress, tuple(import_modules))) as pool:
        pending = set()
        try:
            for a in todo:
                pending.add(pool.submit(_pack_shard_task, *a))
                if len(pending) >= 2 * workers:
                    break
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                drain()
                for future in done:
                    meta = future.result()
                    metas[meta['shard']] = meta
                    a = next(todo, None)
                    if a is not None:
                        pending.add(pool.submit(_pack_shard_task, *a))
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    drain()
    return metas
