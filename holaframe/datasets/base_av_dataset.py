"""Base class of holaframe's audio-visual datasets (sub-setting and bad-sample handling)."""

import os.path as osp
from abc import ABCMeta, abstractmethod
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log

from holaframe.registry import TRANSFORMS

from .io import BadSampleError, default_work_dir, printable, record_bad_sample

__all__ = ['BaseAVDataset']


class BaseAVDataset(BaseDataset, metaclass=ABCMeta):
    """Audio-visual clip dataset with sub-setting and an optional skip of bad samples.

    Subclasses implement :meth:`load_samples` returning a list of data infos, each with at
    least ``filename`` (absolute path) and ``file`` (path relative to the subset folder).

    Bad samples: any error raised while a sample is loaded or transformed is re-raised as a
    :class:`~holaframe.datasets.io.BadSampleError` whose message starts with the file. With
    ``skip_bad_samples=True`` the sample is skipped instead: in training the next index is
    returned (the replacement is deterministic); in test mode, where every clip must be
    predicted exactly once, a placeholder for the same clip is returned (zero inputs of the
    shapes the pipeline produces for the next readable clip, and an ``AVDataSample`` with the
    clip's ``file``, ``filename``, ``sample_idx`` and ``load_error``): ``VideoMetric`` leaves it
    out of the metrics and counts it, ``SubmissionWriter`` gives it ``unreadable_score``. The
    file and the reason are appended to the bad-sample list and the index is remembered, so the
    file is not read again by this process. The list is
    ``bad_samples_file`` if given, else ``<work_dir>/bad_samples.txt`` where ``work_dir`` is the
    argument or, when it is None, the work dir of the running MMEngine runner (found through its
    logger's log file), else ``work_dirs/bad_samples.txt``. Metadata entries with a missing
    field are handled the same way when the dataset is loaded; those load-time failures are
    also listed in ``metainfo['load_failures']`` (``file``, ``filename``, ``stage``,
    ``error``), which :class:`~holaframe.evaluation.ErrorReportWriter` puts into the error
    report with the clips that failed later.

    Args:
        data_root: Dataset root.
        pipeline: Transforms.
        num_samples: Keep only a subset: an int (count) or a float in (0, 1] (fraction).
        subset_mode: ``'random'`` (seeded random subset, original order kept) or ``'first'``.
        subset_seed: Seed of the random subset.
        skip_bad_samples: Skip (and record) bad samples instead of raising.
        work_dir: Where ``bad_samples.txt`` goes (default: the runner's work dir).
        bad_samples_file: Explicit path of the bad-sample list.
        test_mode: Test mode (no random augmentation in the transforms that honour it).
        lazy_init: Defer loading the annotations.
        max_refetch: Maximum number of replacements tried for one index.
        **kwargs: Other :class:`mmengine.dataset.BaseDataset` arguments.
    """

    METAINFO: dict = dict(classes=('real', 'fake'))

    def __init__(self,
                 data_root: str = '',
                 pipeline: Sequence[Union[dict, Callable]] = (),
                 num_samples: Optional[Union[int, float]] = None,
                 subset_mode: str = 'random',
                 subset_seed: int = 0,
                 skip_bad_samples: bool = False,
                 work_dir: Optional[str] = None,
                 bad_samples_file: Optional[str] = None,
                 test_mode: bool = False,
                 lazy_init: bool = False,
                 max_refetch: int = 100,
                 **kwargs) -> None:
        if subset_mode not in ('random', 'first'):
            raise ValueError(f'subset_mode must be random or first, got {subset_mode!r}')
        self.num_samples = num_samples
        self.subset_mode = subset_mode
        self.subset_seed = subset_seed
        self.skip_bad_samples = skip_bad_samples
        self.work_dir = work_dir
        self._bad_samples_file = bad_samples_file
        self._bad_indices: Dict[int, str] = {}  # index -> reason
        self.load_failures: List[Dict] = []  # metadata entries dropped while loading
        # Built with holaframe's registry, so no default scope is needed (its parent, MMEngine's
        # registry, still resolves MMEngine / MMCV transforms).
        pipeline = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
        super().__init__(data_root=data_root, pipeline=pipeline, test_mode=test_mode,
                         lazy_init=lazy_init, max_refetch=max_refetch, **kwargs)

    # ------------------------------------------------------------------ loading
    @abstractmethod
    def load_samples(self) -> List[Dict]:
        """Return the data infos of every sample (implemented by subclasses)."""

    def load_data_list(self) -> List[Dict]:
        """Load the samples and apply ``num_samples``; list the load-time failures in
        ``metainfo['load_failures']``."""
        self.load_failures = []
        infos = self.load_samples()
        self._metainfo['load_failures'] = [dict(f) for f in self.load_failures]
        return self._take_subset(infos)

    def _take_subset(self, infos: List[Dict]) -> List[Dict]:
        n = self.num_samples
        if n is None:
            return infos
        if isinstance(n, float):
            if not 0 < n <= 1:
                raise ValueError(f'a fractional num_samples must be in (0, 1], got {n}')
            n = max(int(round(n * len(infos))), 1)
        n = min(int(n), len(infos))
        if self.subset_mode == 'first':
            return infos[:n]
        keep = np.sort(np.random.default_rng(self.subset_seed).permutation(len(infos))[:n])
        return [infos[i] for i in keep]

    def missing_fields(self, entry: Dict, required: Sequence[str], source: str,
                       what: str) -> bool:
        """Check ``required`` fields of a metadata ``entry``.

        Raises :class:`BadSampleError` naming ``source`` and the entry, or, with
        ``skip_bad_samples``, records it and returns True (the caller drops the entry).
        """
        missing = [k for k in required if k not in entry]
        if not missing:
            return False
        msg = f'{source}: metadata entry {what} is missing field(s) {missing}'
        if not self.skip_bad_samples:
            raise BadSampleError(msg)
        self.record_load_failure(source, msg, entry.get('file'))
        return True

    def record_load_failure(self, source: str, reason: str, file=None) -> None:
        """Record a metadata entry dropped while loading (``skip_bad_samples``).

        Args:
            source: The metadata file.
            reason: The error, naming the file and the entry.
            file: The entry's ``file`` (relative path), if it has one.
        """
        self.load_failures.append(dict(file=None if file is None else printable(str(file)),
                                       filename=printable(source), stage='metadata',
                                       error=printable(reason)))
        self._record(source, reason)

    # ------------------------------------------------------------------ bad samples
    def _unreadable_placeholder(self, idx: int, reason: str, like: dict) -> dict:
        """Test-mode stand-in for clip ``idx`` that could not be read: zero inputs shaped like
        ``like['inputs']`` and a data sample naming the clip, with ``load_error``."""
        from holaframe.structures import AVDataSample
        info = self.get_data_info(idx)
        sample = AVDataSample()
        meta = {k: info[k] for k in ('file', 'filename', 'subset', 'modify_type')
                if k in info}
        meta.update(sample_idx=idx, has_audio=False, load_error=reason)
        sample.set_metainfo(meta)
        inputs = like['inputs']
        if isinstance(inputs, dict):
            inputs = {k: v.new_zeros(v.shape) if hasattr(v, 'new_zeros') else v
                      for k, v in inputs.items()}
        return dict(inputs=inputs, data_samples=sample)

    @property
    def bad_samples_file(self) -> str:
        """Path of the bad-sample list (resolved at first use)."""
        if self._bad_samples_file is None:
            work_dir = self.work_dir or default_work_dir() or 'work_dirs'
            self._bad_samples_file = osp.join(work_dir, 'bad_samples.txt')
        return self._bad_samples_file

    def _record(self, filename: str, reason: str) -> None:
        record_bad_sample(self.bad_samples_file, filename, reason)
        print_log(f'skipped bad sample {printable(reason)} (recorded in '
                  f'{self.bad_samples_file})', logger='current', level=30)

    def __getitem__(self, idx: int) -> dict:
        if not self._fully_initialized:
            print_log('Please call `full_init()` method manually to accelerate the speed.',
                      logger='current', level=30)
            self.full_init()
        n = len(self)
        requested, failure = idx, None
        for _ in range(self.max_refetch + 1):
            if idx in self._bad_indices:
                if idx == requested and failure is None:
                    failure = self._bad_indices[idx]
                idx = (idx + 1) % n
                continue
            try:
                data = self.prepare_data(idx)
            except Exception as e:  # any failure of one sample
                filename = self.get_data_info(idx).get('filename', f'<sample {idx}>')
                if isinstance(e, BadSampleError):
                    err = e
                else:
                    err = BadSampleError(f'{filename}: {type(e).__name__}: {e}')
                if not self.skip_bad_samples:
                    if err is e:
                        raise
                    raise err from e
                self._bad_indices[idx] = str(err)
                self._record(filename, str(err))
                if idx == requested and failure is None:
                    failure = str(err)
                idx = (idx + 1) % n
                continue
            if data is None:
                if self.test_mode:
                    raise BadSampleError(
                        f'{self.get_data_info(idx).get("filename")}: the test pipeline '
                        'returned None')
                idx = self._rand_another()
                continue
            if failure is not None and self.test_mode:
                return self._unreadable_placeholder(requested, failure, data)
            return data
        raise BadSampleError(f'{type(self).__name__}: no usable sample found after '
                             f'{self.max_refetch} replacements (see {self.bad_samples_file})')
