"""A dataset read from a decoded-clip cache (``tools/data/pack_clips.py``)."""

import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.logging import print_log

from holaframe.registry import DATASETS

from .base_av_dataset import BaseAVDataset
from .clip_cache import (
    ERRORS_FILE,
    INDEX_FILE,
    ShardReader,
    cache_signature,
    check_signature,
    jsonable,
    plan_cache,
    read_index,
    replay_pipeline,
)

__all__ = ['PackedClipDataset']

#: Dataset arguments that do not change which clips a dataset holds (ignored when the source
#: of a config is compared with the one recorded in the index).
HANDLING_ARGS = ('pipeline', 'test_mode', 'skip_bad_samples', 'work_dir', 'bad_samples_file',
                 'lazy_init', 'max_refetch', 'serialize_data')


def _differences(a: Dict, b: Dict) -> List[str]:
    keys = (set(a) | set(b)) - set(HANDLING_ARGS)
    return sorted(k for k in keys if a.get(k) != b.get(k))


@DATASETS.register_module()
class PackedClipDataset(BaseAVDataset):
    """The clips of a pack folder, read through memory maps, with the rest of the pipeline.

    ``pipeline`` is the *video* pipeline the pack was written for (the same config list): its
    cached steps (``DecordInit``, ``DecordDecode`` and the frame-wise transforms after it,
    ``AudioDecode``, and, for a deterministic sampler, the audio features; see
    :mod:`holaframe.datasets.clip_cache`) are replaced by reads from the shards, every other step
    runs as it would on the videos. With the same random state a sample is therefore identical
    to the one the video dataset gives (the frame sampler, random crops and flips draw the same
    numbers). The cached steps must have exactly the configs of the pack, else loading stops
    naming the index and the step.

    Each data info is the source dataset's (``file``, ``filename`` (the video the clip came
    from), ``gt_label``, ``modify_type``, ``fake_segments`` ...) plus ``shard``. A clip that could
    not be packed stays in the dataset and raises a
    :class:`~holaframe.datasets.io.BadSampleError` with the packing error when read, at the
    step where the video failed (after the same random draws), so ``skip_bad_samples`` treats
    it as the video dataset would (the next clip in training, a placeholder in test mode); the
    clips are listed in the pack's ``errors.txt``.

    Every shard the dataset uses must be readable (a shared filesystem or a full copy on each
    node); their sizes are checked when the index is loaded. Under DDP / DeepSpeed,
    :class:`~holaframe.datasets.samplers.ShardSampler` gives each rank whole shards, so each
    rank reads only its own (``shard_ids`` lists the shard of every sample); any other sampler
    (``DefaultSampler``) works too.

    Args:
        pack_dir: The pack folder (``index.json``, ``shards/``).
        pipeline: The video pipeline (configs) the pack was written for.
        source: The packed dataset's config (as in the video config). When given, it must
            match the one recorded in the index (arguments that do not change the clips, such
            as ``test_mode``, aside); ``tools/data/pack_clips.py`` packs it when the config's
            dataset is a ``PackedClipDataset``.
        index_file: Index file name inside ``pack_dir``.
        **kwargs: :class:`BaseAVDataset` arguments (``num_samples``, ``skip_bad_samples``,
            ``test_mode`` ...).
    """

    def __init__(self,
                 pack_dir: str,
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 source: Optional[Dict] = None,
                 index_file: str = INDEX_FILE,
                 **kwargs) -> None:
        self.pack_dir = pack_dir
        self.source = source
        self.index_file = osp.join(pack_dir, index_file)
        where = f'{type(self).__name__}({pack_dir})'
        pipeline = list(pipeline)
        self.plan = plan_cache(pipeline, where)
        self.signature = cache_signature(pipeline, self.plan)
        self.reader = ShardReader(pack_dir)
        self._shard_ids = np.zeros(0, np.int64)
        super().__init__(data_root=pack_dir,
                         pipeline=replay_pipeline(pipeline, self.plan, self.reader), **kwargs)

    def load_samples(self) -> List[Dict]:
        """The index's clips as data infos (after checking the index against the pipeline)."""
        index = read_index(self.index_file)
        check_signature(index, self.signature, self.index_file)
        if self.source is not None and index.get('source') is not None:
            ours = jsonable(dict(self.source))
            differ = _differences(index['source'], ours)
            if differ:
                raise ValueError(f'{self.index_file}: packed from the dataset {index["source"]}, '
                                 f'not from {ours}, the source of this config (they differ in '
                                 f'{differ})')
        self.reader.set_shards(index['shards'])
        failed = index.get('num_failed', 0)
        if failed:
            print_log(f'{self.index_file}: {failed} of {len(index["clips"])} clips could not be '
                      f'packed (listed in {osp.join(self.pack_dir, ERRORS_FILE)}); reading them '
                      'raises their packing error', logger='current', level=30)
        infos = []
        for clip in index['clips']:
            info = dict(clip['info'])
            info.update(shard=int(clip['shard']), packed_arrays=clip.get('arrays'),
                        packed_extras=clip.get('extras'), pack_error=clip.get('error'),
                        pack_error_stage=clip.get('error_stage'))
            infos.append(info)
        return infos

    def load_data_list(self) -> List[Dict]:
        """Load the samples, apply ``num_samples`` and check the shards they use."""
        infos = super().load_data_list()
        self._shard_ids = np.array([info['shard'] for info in infos], np.int64)
        self.reader.check(np.unique(self._shard_ids).tolist())
        return infos

    def full_init(self) -> None:
        """Load the index (see :class:`mmengine.dataset.BaseDataset`)."""
        if self._fully_initialized:
            return
        super().full_init()
        if self._indices is not None:  # BaseDataset's `indices` took a subset after loading
            self._shard_ids = np.array([self.get_data_info(i)['shard'] for i in range(len(self))],
                                       np.int64)

    @property
    def shard_ids(self) -> np.ndarray:
        """The shard of every sample, ``(len(self),)`` int64."""
        if not self._fully_initialized:
            self.full_init()
        return self._shard_ids
