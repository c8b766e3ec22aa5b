"""Labeled AV-Deepfake1M / AV-Deepfake1M++ subsets."""

import glob
import json
import math
import os.path as osp
from typing import Dict, List, Optional, Sequence

from mmengine.logging import print_log

from holaframe.registry import DATASETS

from .base_av_dataset import BaseAVDataset
from .io import BadSampleError

__all__ = ['AVDeepfake1MDataset']

SEGMENT_FIELDS = ('fake_segments', 'audio_fake_segments', 'visual_fake_segments')


@DATASETS.register_module()
class AVDeepfake1MDataset(BaseAVDataset):
    """A labeled subset (train / val) of AV-Deepfake1M++ or AV-Deepfake1M.

    Layouts (``layout='auto'`` picks the first that exists):

    * ``'++'``: ``data_root/{subset}_metadata.json`` is a JSON list of per-clip dicts;
    * ``'v1'``: one JSON dict per clip under ``data_root/{subset}_metadata/<rel path>.json``.

    Videos are ``data_root/{subset}/<file>``. A clip is fake (``gt_label`` 1) iff its
    ``fake_segments`` is not empty. Each data info keeps ``file``, ``filename``, ``subset``,
    ``modify_type``, ``audio_model``, ``video_model``, ``original``, the three segment lists,
    ``video_frames`` and ``audio_frames`` for later breakdowns. Segment fields are metadata only:
    they reach a loss only through the opt-in ``FrameFakeMask`` transform.

    Metadata is checked while loading; with ``skip_bad_samples`` a bad entry is dropped and
    recorded (``bad_samples.txt``, ``metainfo['load_failures']``), without it loading stops with
    a :class:`~holaframe.datasets.io.BadSampleError` naming the metadata file, the entry and the
    cause:

    * a segment field that is ``null``, not a list, a flat list of numbers (``[0.1, 0.5]``) or
      holds anything but ``[start, end]`` pairs of finite numbers;
    * a segment that ends before it starts;
    * a segment entirely outside the clip (``[0, duration]``, the duration from ``duration`` or
      ``video_frames / metadata_fps``);
    * a ``file`` that is missing, not a non-empty string, or listed twice (the first entry is
      kept).

    A segment that only sticks out of the clip (a negative start, an end after the clip) is
    clipped to it: a deliberate repair, logged as a warning.

    Args:
        data_root: Dataset root.
        subset: Subset folder name (``train``, ``val``, ...).
        layout: ``'auto'``, ``'++'`` or ``'v1'``.
        metadata_file: Explicit metadata list (relative to ``data_root``), overriding the layout.
        required_fields: Metadata fields every entry must have.
        pseudo_label_file: Optional JSON list of ``{"file", "label", "subset"}`` dicts (e.g.
            pseudo-labelled test clips) appended to the samples, videos under
            ``data_root/<subset>/<file>``.
        metadata_fps: Frame rate that turns ``video_frames`` into a duration for the segment
            checks (AV-Deepfake1M: 25).
        **kwargs: :class:`BaseAVDataset` arguments (``pipeline``, ``num_samples``,
            ``skip_bad_samples``, ``work_dir``, ``test_mode`` ...).
    """

    def __init__(self,
                 data_root: str = '',
                 subset: str = 'train',
                 layout: str = 'auto',
                 metadata_file: Optional[str] = None,
                 required_fields: Sequence[str] = ('file', 'fake_segments'),
                 pseudo_label_file: Optional[str] = None,
                 metadata_fps: float = 25.0,
                 **kwargs) -> None:
        if layout not in ('auto', '++', 'v1'):
            raise ValueError(f"layout must be 'auto', '++' or 'v1', got {layout!r}")
        self.subset = subset
        self.layout = layout
        self.metadata_file = metadata_file
        self.required_fields = tuple(required_fields)
        self.pseudo_label_file = pseudo_label_file
        self.metadata_fps = float(metadata_fps)
        super().__init__(data_root=data_root, **kwargs)

    def _resolve(self, path: str) -> str:
        return path if osp.isabs(path) else osp.join(self.data_root, path)

    def _load_entries(self) -> List[tuple]:
        """Return (source file, index, metadata dict) triples in the layout's order."""
        list_file = self._resolve(self.metadata_file or f'{self.subset}_metadata.json')
        per_file_dir = self._resolve(f'{self.subset}_metadata')
        layout = self.layout
        if self.metadata_file is not None:
            layout = '++'
        elif layout == 'auto':
            if osp.isfile(list_file):
                layout = '++'
            elif osp.isdir(per_file_dir):
                layout = 'v1'
            else:
                raise FileNotFoundError(
                    f'{self.data_root}: no metadata for subset {self.subset!r} (neither '
                    f'{list_file} nor the folder {per_file_dir} exists)')
        if layout == '++':
            if not osp.isfile(list_file):
                raise FileNotFoundError(f'{list_file}: metadata list not found')
            try:
                with open(list_file) as f:
                    entries = json.load(f)
            except json.JSONDecodeError as e:
                raise BadSampleError(f'{list_file}: invalid JSON ({e})') from e
            if not isinstance(entries, list):
                raise BadSampleError(f'{list_file}: expected a JSON list of dicts')
            return [(list_file, i, e) for i, e in enumerate(entries)]
        if not osp.isdir(per_file_dir):
            raise FileNotFoundError(f'{per_file_dir}: per-file metadata folder not found')
        paths = sorted(glob.glob(osp.join(per_file_dir, '**', '*.json'), recursive=True))
        out = []
        for i, p in enumerate(paths):
            try:
                with open(p) as f:
                    entry = json.load(f)
            except json.JSONDecodeError as e:
                if not self.skip_bad_samples:
                    raise BadSampleError(f'{p}: invalid JSON ({e})') from e
                self._record(p, f'{p}: invalid JSON ({e})')
                continue
            if isinstance(entry, dict) and 'file' not in entry:
                entry['file'] = osp.relpath(p, per_file_dir)[:-5] + '.mp4'
            out.append((p, i, entry))
        return out

    def load_samples(self) -> List[Dict]:
        """Parse and check the metadata into data infos (see the class doc)."""
        infos = []
        first_entry: Dict[str, int] = {}
        for source, i, entry in self._load_entries():
            if not isinstance(entry, dict):
                msg = f'{source}: metadata entry {i} is not a dict'
                if not self.skip_bad_samples:
                    raise BadSampleError(msg)
                self.record_load_failure(source, msg)
                continue
            what = f'{i} ({entry.get("file", "no file")!r})'
            if self.missing_fields(entry, self.required_fields, source, what):
                continue
            file = entry.get('file')
            try:
                if not isinstance(file, str) or not file:
                    raise BadSampleError(f'{source}: metadata entry {i}: file must be a '
                                         f'non-empty string, got {file!r}')
                if file in first_entry:
                    raise BadSampleError(f'{source}: metadata entry {what} repeats the file of '
                                         f'entry {first_entry[file]}; the repeat is dropped')
                info = self._make_info(entry, self.subset, f'{source}: metadata entry {what}')
            except BadSampleError as e:
                if not self.skip_bad_samples:
                    raise
                self.record_load_failure(source, str(e), file if isinstance(file, str) else None)
                continue
            first_entry[file] = i
            infos.append(info)
        if self.pseudo_label_file:
            infos.extend(self._load_pseudo_labels())
        return infos

    def _duration(self, entry: Dict) -> Optional[float]:
        """The clip's duration in seconds according to its metadata, if it says."""
        for key, scale in (('duration', 1.0), ('video_frames', 1.0 / self.metadata_fps)):
            value = entry.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
                return float(value) * scale
        return None

    def _segments(self, entry: Dict, key: str, where: str) -> List[List[float]]:
        """Checked ``[start, end]`` pairs of ``entry[key]`` (absent: none); see the class doc."""
        if key not in entry:
            return []
        value = entry[key]
        if value is None:
            raise BadSampleError(f'{where}: {key} is null (expected a list of [start, end] '
                                 'pairs, [] for none)')
        if not isinstance(value, list):
            raise BadSampleError(f'{where}: {key} must be a list of [start, end] pairs, got '
                                 f'{type(value).__name__}')
        if value and all(isinstance(v, (int, float)) for v in value):
            raise BadSampleError(f'{where}: {key} is a flat list {value!r}; expected pairs '
                                 'such as [[start, end], ...]')
        duration = self._duration(entry)
        out = []
        for seg in value:
            if not (isinstance(seg, (list, tuple)) and len(seg) == 2 and all(
                    isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)
                    for x in seg)):
                raise BadSampleError(f'{where}: {key} holds {seg!r}, not a [start, end] pair '
                                     'of finite numbers')
            start, end = float(seg[0]), float(seg[1])
            if end < start:
                raise BadSampleError(f'{where}: {key} segment [{start}, {end}] ends before it '
                                     'starts')
            lo, hi = max(start, 0.0), end if duration is None else min(end, duration)
            if start < end and lo >= hi:
                raise BadSampleError(f'{where}: {key} segment [{start}, {end}] lies outside the '
                                     f'clip (0 to {duration if duration is not None else "?"} '
                                     's)')
            if (lo, hi) != (start, end) and start < end:
                print_log(f'{where}: {key} segment [{start}, {end}] clipped to the clip: '
                          f'[{lo}, {hi}]', logger='current', level=30)
                start, end = lo, hi
            out.append([start, end])
        return out

    def _make_info(self, entry: Dict, subset: str, where: str = '') -> Dict:
        file = entry['file']
        where = where or f'{file}'
        segs = self._segments(entry, 'fake_segments', where)
        info = dict(
            filename=osp.join(self.data_root, subset, file),
            file=file,
            subset=subset,
            gt_label=int(len(segs) > 0),
            modify_type=entry.get('modify_type', 'real' if not segs else 'unknown'),
            audio_model=entry.get('audio_model', '') or '',
            video_model=entry.get('video_model', '') or '',
            original=entry.get('original'),
            fake_segments=segs,
            audio_fake_segments=self._segments(entry, 'audio_fake_segments', where),
            visual_fake_segments=self._segments(entry, 'visual_fake_segments', where),
            video_frames=entry.get('video_frames'),
            audio_frames=entry.get('audio_frames'),
        )
        return info

    def _load_pseudo_labels(self) -> List[Dict]:
        path = self._resolve(self.pseudo_label_file)
        with open(path) as f:
            entries = json.load(f)
        infos = []
        for i, e in enumerate(entries):
            if self.missing_fields(e, ('file', 'label', 'subset'), path, str(i)):
                continue
            label = int(e['label'])
            if label not in (0, 1):
                raise BadSampleError(f'{path}: entry {i} has label {label}, expected 0 or 1')
            info = self._make_info(dict(file=e['file']), e['subset'])
            info.update(gt_label=label, modify_type='pseudo_fake' if label else 'pseudo_real',
                        pseudo_label=True)
            infos.append(info)
        return infos
