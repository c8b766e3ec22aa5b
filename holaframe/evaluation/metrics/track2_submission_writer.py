"""A metric that writes the challenge's Track 2 (temporal localisation) submission."""

from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from holaframe.evaluation.records import clip_key, deduplicate, get_field
from holaframe.evaluation.submission import (
    check_track2_entry,
    order_entries,
    read_file_list,
    write_track2_submission,
)
from holaframe.registry import METRICS


@METRICS.register_module()
class Track2SubmissionWriter(BaseMetric):
    """Write ``{"<relative path>": [[confidence, start_s, end_s], ...], ...}`` as JSON.

    The Track 2 file of the 1M-Deepfakes Detection Challenge: every video of the subset, in
    its file-list order, with its ``pred_segments`` sorted by confidence (descending; ties keep
    the model's order). Numbers are the shortest decimals of their float32 values (the official
    SDK reads float32). Works for labeled and unlabeled subsets: labels are not read. Records are
    deduplicated by clip (distributed padding) and the number of videos is checked against the
    dataset length. The order is ``file_list`` when given, else ascending ``sample_idx``. A
    video that could not be read (``load_error`` metainfo) still gets an entry, the single
    proposal ``unreadable_proposal``, and is named in a warning: the SDK stops on a listed
    video without proposals.

    Args:
        out_file (str): JSON file to write (on rank 0, atomically).
        file_list (str, optional): A text file with the subset's relative paths, one per line,
            in the official order; the predictions must cover exactly these files.
        collect_device (str): ``cpu`` or ``gpu``, for collecting results from the ranks.
        prefix (str, optional): Metric name prefix; default ``submission``.
        collect_dir (str, optional): Directory for collection through the file system.
        unreadable_proposal (Sequence[float]): ``[confidence, start_s, end_s]`` written for
            videos that could not be read. Defaults to ``(0.0, 0.0, 1.0)``: confidence 0 ranks
            it after every proposal of the other videos, where a false positive lowers neither
            AP nor AR.
    """

    default_prefix = 'submission'

    def __init__(self,
                 out_file: str,
                 file_list: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None,
                 unreadable_proposal: Sequence[float] = (0.0, 0.0, 1.0)) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        self.unreadable_proposal = check_track2_entry('unreadable_proposal',
                                                      [list(unreadable_proposal)])
        self.out_file = out_file
        self.file_list = file_list
        self._size: Optional[int] = None

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Store ``(file, sample_idx, proposals)`` per video.

        Args:
            data_batch: The batch from the dataloader (unused).
            data_samples (Sequence): ``AVDataSample`` (or dicts) with ``pred_segments`` and
                ``file``.
        """
        for sample in data_samples:
            file = get_field(sample, 'file')
            if file is None:
                raise KeyError('Track2SubmissionWriter needs the `file` metainfo (relative '
                               'path).')
            error = get_field(sample, 'load_error')
            if error is not None:
                proposals = self.unreadable_proposal
            else:
                pred = get_field(sample, 'pred_segments')
                if pred is None:
                    raise KeyError(f'Track2SubmissionWriter: no `pred_segments` for {file}.')
                proposals = check_track2_entry(str(file), pred)
            idx = get_field(sample, 'sample_idx')
            self.results.append(
                dict(key=clip_key(sample), file=str(file), proposals=np.asarray(proposals),
                     order=-1 if idx is None else int(idx),
                     load_error=None if error is None else str(error)))

    def evaluate(self, size: int) -> dict:
        """Remember the dataset length, then collect and write.

        Args:
            size (int): Length of the evaluated dataset.
        """
        self._size = size
        return super().evaluate(size)

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        """Order, check and write the submission (rank 0).

        Args:
            results (list[dict]): Records of all ranks.
        """
        records = deduplicate(results, type(self).__name__)
        unreadable = [r['file'] for r in records if r.get('load_error')]
        if unreadable:
            print_log(f'Track2SubmissionWriter: {len(unreadable)} video(s) could not be read and '
                      f'get the proposal {self.unreadable_proposal[0].tolist()}: '
                      f'{unreadable[:5]}{" ..." if len(unreadable) > 5 else ""}',
                      logger='current', level=30)
        if self.file_list:
            entries = order_entries([(r['file'], r['proposals']) for r in records],
                                    read_file_list(self.file_list))
        else:
            if any(r['order'] < 0 for r in records):
                raise KeyError('Track2SubmissionWriter needs `sample_idx` to order the videos '
                               '(or give `file_list`).')
            records = sorted(records, key=lambda r: r['order'])
            entries = [(r['file'], r['proposals']) for r in records]
        if self._size is not None and len(entries) != self._size:
            raise RuntimeError(f'Track2SubmissionWriter: {len(entries)} distinct videos '
                               f'predicted but the dataset has {self._size}; refusing to write '
                               f'{self.out_file}.')
        num = write_track2_submission(self.out_file, entries)
        print_log(f'Track 2 submission with {num} videos written to {self.out_file}',
                  logger='current')
        return dict(num_videos=num)
