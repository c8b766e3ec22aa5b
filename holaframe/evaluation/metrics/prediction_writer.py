"""A metric that writes the per-clip predictions of the evaluated subset (``--out``/``--dump``)."""

import json
import pickle
from typing import Any, Dict, List, Sequence

import torch
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from holaframe.evaluation.records import clip_key, deduplicate, get_field, to_float
from holaframe.registry import METRICS
from holaframe.utils.atomic_io import atomic_open
from holaframe.utils.checkpoint import to_plain

#: File endings written with pickle; everything else is JSON.
PICKLE_SUFFIXES = ('.pkl', '.pickle')


def _plain(value: Any) -> Any:
    """Tensors as (nested) lists, then :func:`holaframe.utils.checkpoint.to_plain`."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return value.item() if value.numel() == 1 and value.dim() <= 1 else value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return to_plain(value)


@METRICS.register_module()
class PredictionWriter(BaseMetric):
    """Write one record per clip, in dataset order, to a JSON file (or pickle if asked).

    The default record is ``file``, ``sample_idx``, ``pred_score`` (fake probability),
    ``pred_label``, ``gt_label`` and ``load_error`` (null, or why the clip could not be read).
    ``full=True`` (``tools/test.py --dump``) keeps every field of the data sample (frame scores,
    metainfo, ...), as MMAction2's ``--dump`` does, for offline evaluation. A file name ending in
    ``.pkl``/``.pickle`` is written with pickle (tensors kept), any other as a JSON list (tensors
    as lists). The file is written atomically.

    Args:
        out_file (str): Output file (on rank 0).
        full (bool): Every data-sample field instead of the compact record.
        collect_device (str): ``cpu`` or ``gpu``, for collecting results from the ranks.
        prefix (str, optional): Metric name prefix; default ``predictions``.
    """

    default_prefix = 'predictions'

    def __init__(self, out_file: str, full: bool = False, collect_device: str = 'cpu',
                 prefix: str = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.out_file = out_file
        self.full = full
        self.pickle = out_file.lower().endswith(PICKLE_SUFFIXES)

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Keep one record per clip.

        Args:
            data_batch: The batch (unused).
            data_samples (Sequence): Predicted ``AVDataSample`` objects (or dicts).
        """
        for sample in data_samples:
            if self.full:
                record = sample.to_dict() if hasattr(sample, 'to_dict') else dict(sample)
                record = {k: (v.detach().cpu() if isinstance(v, torch.Tensor) else v)
                          for k, v in record.items()}
            else:
                score = get_field(sample, 'pred_score')
                label = get_field(sample, 'pred_label')
                gt = get_field(sample, 'gt_label')
                error = get_field(sample, 'load_error')
                record = dict(
                    file=get_field(sample, 'file'), sample_idx=get_field(sample, 'sample_idx'),
                    pred_score=None if score is None else to_float(score),
                    pred_label=None if label is None else int(to_float(label)),
                    gt_label=None if gt is None else int(to_float(gt)),
                    load_error=None if error is None else str(error))
            record = dict(record, key=clip_key(sample))
            self.results.append(record)

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        """Deduplicate (sampler padding), order by ``sample_idx`` and write the file.

        Args:
            results (list[dict]): Records of all ranks.
        """
        records = deduplicate(results, type(self).__name__)
        records.sort(key=lambda r: (r.get('sample_idx') is None, r.get('sample_idx') or 0))
        for r in records:
            r.pop('key', None)
        if self.pickle:
            with atomic_open(self.out_file, 'wb') as f:
                pickle.dump(records, f)
        else:
            with atomic_open(self.out_file) as f:
                json.dump(_plain(records), f, indent=1 if self.full else None)
                f.write('\n')
        print_log(f'{len(records)} predictions written to {self.out_file}', logger='current')
        return dict(num_written=len(records))
