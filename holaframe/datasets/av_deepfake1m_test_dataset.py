"""Unlabeled AV-Deepfake1M(++) test subsets listed in a file."""

import os.path as osp
from typing import Dict, List, Optional

from holaframe.registry import DATASETS

from .base_av_dataset import BaseAVDataset

__all__ = ['AVDeepfake1MTestDataset']


@DATASETS.register_module()
class AVDeepfake1MTestDataset(BaseAVDataset):
    """An unlabeled test subset (``gt_label`` -1) in the order of its file list.

    The list is ``data_root/{subset}_files.txt`` (AV-Deepfake1M++: ``testA_files.txt``,
    ``testB_files.txt``; AV-Deepfake1M v1: ``test_files.txt`` with ``subset='test'``), one
    relative path per line; videos are ``data_root/{subset}/<file>``. The order of the list is
    kept (the challenge submission follows it); ``num_samples`` takes the first clips.

    Args:
        data_root: Dataset root.
        subset: Subset folder name.
        file_list: Explicit list file (relative to ``data_root``).
        **kwargs: :class:`BaseAVDataset` arguments.
    """

    def __init__(self,
                 data_root: str = '',
                 subset: str = 'testA',
                 file_list: Optional[str] = None,
                 **kwargs) -> None:
        self.subset = subset
        self.file_list = file_list
        kwargs.setdefault('subset_mode', 'first')
        kwargs.setdefault('test_mode', True)
        super().__init__(data_root=data_root, **kwargs)

    def load_samples(self) -> List[Dict]:
        """Read the file list."""
        path = self.file_list or f'{self.subset}_files.txt'
        path = path if osp.isabs(path) else osp.join(self.data_root, path)
        if not osp.isfile(path):
            raise FileNotFoundError(f'{path}: file list of subset {self.subset!r} not found')
        infos = []
        # Names that are not valid UTF-8 are kept as their bytes (surrogate escapes).
        with open(path, encoding='utf-8', errors='surrogateescape') as f:
            for line in f:
                file = line.strip()
                if not file:
                    continue
                infos.append(dict(filename=osp.join(self.data_root, self.subset, file),
                                  file=file, subset=self.subset, gt_label=-1,
                                  modify_type='unknown', audio_model='', video_model='',
                                  fake_segments=[]))
        return infos
