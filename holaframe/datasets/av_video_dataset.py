"""Unlabeled audio-visual videos for self-supervised pre-training."""

import glob
import os.path as osp
from typing import Dict, List, Optional

from holaframe.registry import DATASETS

from .base_av_dataset import BaseAVDataset

__all__ = ['AVVideoDataset']


@DATASETS.register_module()
class AVVideoDataset(BaseAVDataset):
    """Unlabeled talking-face clips (VoxCeleb2-like) from a list file or a folder glob.

    Args:
        data_root: Folder of the videos.
        list_file: Text file (relative to ``data_root`` or absolute) with one video path
            (relative to ``data_root``) per line; extra whitespace-separated columns are ignored.
        pattern: Glob (relative to ``data_root``, recursive) used when ``list_file`` is None.
            Matches are sorted.
        subset: Name stored in each sample's ``subset``.
        **kwargs: :class:`BaseAVDataset` arguments.
    """

    def __init__(self,
                 data_root: str = '',
                 list_file: Optional[str] = None,
                 pattern: str = '**/*.mp4',
                 subset: str = 'pretrain',
                 **kwargs) -> None:
        self.list_file = list_file
        self.pattern = pattern
        self.subset = subset
        super().__init__(data_root=data_root, **kwargs)

    def load_samples(self) -> List[Dict]:
        """List the videos."""
        if self.list_file is not None:
            path = self.list_file
            path = path if osp.isabs(path) else osp.join(self.data_root, path)
            if not osp.isfile(path):
                raise FileNotFoundError(f'{path}: video list not found')
            with open(path, encoding='utf-8', errors='surrogateescape') as f:
                files = [line.split()[0] for line in f if line.strip()]
        else:
            hits = glob.glob(osp.join(self.data_root, self.pattern), recursive=True)
            files = sorted(osp.relpath(h, self.data_root) for h in hits)
            if not files:
                raise FileNotFoundError(
                    f'{self.data_root}: no video matches the pattern {self.pattern!r}')
        return [dict(filename=osp.join(self.data_root, f), file=f, subset=self.subset,
                     gt_label=-1, modify_type='unknown', audio_model='', video_model='',
                     fake_segments=[]) for f in files]
