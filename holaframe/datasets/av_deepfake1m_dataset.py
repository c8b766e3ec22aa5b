"""Labeled AV-Deepfake1M / AV-Deepfake1M++ subsets."""

import glob
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

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

    Args:
        data_root: Dataset root.
        subset: Subset folder name (``train``, ``val``, ...).
        layout: ``'auto'``, ``'++'`` or ``'v1'``.
        metadata_file: Explicit metadata list (relative to ``data_root``), overriding the layout.
        required_fields: Metadata fields every entry must have.
        pseudo_label_file: Optional JSON list of ``{"file", "label", "subset"}`` dicts (e.g.
            pseudo-labelled test clips) appended to the samples, videos under
            ``data_root/<subset>/<file>``.
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
                 **kwargs) -> None:
        if layout not in ('auto', '++', 'v1'):
            raise ValueError(f"layout must be 'auto', '++' or 'v1', got {layout!r}")
        self.subset = subset
        self.layout = layout
        self.metadata_file = metadata_file
        self.required_fields = tuple(required_fields)
        self.pseudo_label_file = pseudo_label_file
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
        """Parse the metadata into data infos."""
        infos = []
        for source, i, entry in self._load_entries():
            if not isinstance(entry, dict):
                msg = f'{source}: metadata entry {i} is not a dict'
                if not self.skip_bad_samples:
                    raise BadSampleError(msg)
                self._record(source, msg)
                continue
            what = f'{i} ({entry.get("file", "no file")})'
            if self.missing_fields(entry, self.required_fields, source, what):
                continue
            infos.append(self._make_info(entry, self.subset))
        if self.pseudo_label_file:
            infos.extend(self._load_pseudo_labels())
        return infos

    def _make_info(self, entry: Dict, subset: str) -> Dict:
        file = entry['file']
        segs = [list(map(float, s)) for s in entry.get('fake_segments', [])]
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
            audio_fake_segments=[list(map(float, s))
                                 for s in entry.get('audio_fake_segments', [])],
            visual_fake_segments=[list(map(float, s))
                                  for s in entry.get('visual_fake_segments', [])],
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
