"""A metric that writes the challenge submission file of the evaluated subset."""

from typing import Any, Dict, List, Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from holaframe.evaluation.records import clip_key, deduplicate, get_field, to_float
from holaframe.evaluation.submission import order_entries, read_file_list, write_submission
from holaframe.registry import METRICS


@METRICS.register_module()
class SubmissionWriter(BaseMetric):
    """Write ``<relative path>;<fake probability>`` per clip, in the subset's file-list order.

    Works for labeled (train/val) and unlabeled (testA/testB) subsets: labels are not read.
    Records are deduplicated by clip (distributed padding) and the number of lines is checked
    against the dataset length. The order is ``file_list`` when given, else ascending
    ``sample_idx`` (holaframe datasets keep the file-list order). A clip that could not be read
    (``load_error`` metainfo: the placeholder of a dataset with ``skip_bad_samples``) still gets
    its line, with ``unreadable_score``, and is named in a warning: the challenge expects one
    line per file of the list.

    Args:
        out_file (str): Submission text file to write (on rank 0).
        file_list (str, optional): A text file with the subset's relative paths, one per line,
            in the official order; the predictions must cover exactly these files.
        collect_device (str): ``cpu`` or ``gpu``, for collecting results from the ranks.
        prefix (str, optional): Metric name prefix; default ``submission``.
        collect_dir (str, optional): Directory for collection through the file system.
        unreadable_score (float): Score written for clips that could not be read (default 0.5,
            the uninformative probability).
    """

    default_prefix = 'submission'

    def __init__(self,
                 out_file: str,
                 file_list: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None,
                 unreadable_score: float = 0.5) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        if not 0.0 <= unreadable_score <= 1.0:
            raise ValueError(f'unreadable_score must be a probability, got {unreadable_score}')
        self.out_file = out_file
        self.file_list = file_list
        self.unreadable_score = float(unreadable_score)
        self._size: Optional[int] = None

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Store ``(file, sample_idx, score)`` per clip.

        Args:
            data_batch: The batch from the dataloader (unused).
            data_samples (Sequence): ``AVDataSample`` (or dicts) with ``pred_score`` and ``file``.
        """
        for sample in data_samples:
            file = get_field(sample, 'file')
            if file is None:
                raise KeyError('SubmissionWriter needs the `file` metainfo (relative path).')
            score = get_field(sample, 'pred_score')
            if score is None:
                raise KeyError(f'SubmissionWriter: no `pred_score` for {file}.')
            idx = get_field(sample, 'sample_idx')
            error = get_field(sample, 'load_error')
            self.results.append(
                dict(key=clip_key(sample), file=str(file),
                     score=self.unreadable_score if error is not None else to_float(score),
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
            print_log(f'SubmissionWriter: {len(unreadable)} clip(s) could not be read and get '
                      f'score {self.unreadable_score}: {unreadable[:5]}'
                      f'{" ..." if len(unreadable) > 5 else ""}', logger='current', level=30)
        entries = [(r['file'], r['score']) for r in records]
        if self.file_list:
            entries = order_entries(entries, read_file_list(self.file_list))
        else:
            if any(r['order'] < 0 for r in records):
                raise KeyError('SubmissionWriter needs `sample_idx` to order the lines (or '
                               'give `file_list`).')
            records = sorted(records, key=lambda r: r['order'])
            entries = [(r['file'], r['score']) for r in records]
        if self._size is not None and len(entries) != self._size:
            raise RuntimeError(f'SubmissionWriter: {len(entries)} distinct clips predicted but '
                               f'the dataset has {self._size}; refusing to write {self.out_file}.')
        num = write_submission(self.out_file, entries)
        print_log(f'Submission with {num} lines written to {self.out_file}', logger='current')
        return dict(num_lines=num)
