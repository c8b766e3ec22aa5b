"""A metric that lists the clips of the evaluated subset that could not be scored."""

import json
from typing import Any, Dict, List, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from holaframe.evaluation.records import clip_key, deduplicate, get_field
from holaframe.registry import METRICS
from holaframe.utils.atomic_io import atomic_open


@METRICS.register_module()
class ErrorReportWriter(BaseMetric):
    """Write every failure of the evaluated subset as one JSON line.

    With ``skip_bad_samples=True`` a holaframe dataset drops metadata entries it cannot use
    while loading (listed in its ``metainfo['load_failures']``, stage ``metadata``) and, in test
    mode, returns a placeholder for a clip that cannot be read (``load_error``, stage
    ``decode``; see :class:`holaframe.datasets.BaseAVDataset`). This metric lists both:
    ``{"file", "filename", "stage", "sample_idx", "error"}`` per line, metadata failures first,
    then clips in dataset order. The file is always written (empty when nothing failed),
    atomically; ``num_failed`` is returned (e.g. ``errors/num_failed``), and ``tools/test.py``
    exits with status 3 when it is not 0.

    Args:
        out_file (str): JSON-lines report (on rank 0).
        collect_device (str): ``cpu`` or ``gpu``, for collecting results from the ranks.
        prefix (str, optional): Metric name prefix; default ``errors``.
    """

    default_prefix = 'errors'

    def __init__(self, out_file: str, collect_device: str = 'cpu', prefix: str = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.out_file = out_file

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Remember every clip (failed or not, so that padding is deduplicated by clip).

        Args:
            data_batch: The batch (unused).
            data_samples (Sequence): Predicted ``AVDataSample`` objects (or dicts).
        """
        for sample in data_samples:
            error = get_field(sample, 'load_error')
            self.results.append(dict(
                key=clip_key(sample), file=get_field(sample, 'file'),
                filename=get_field(sample, 'filename'), stage='decode',
                sample_idx=get_field(sample, 'sample_idx'),
                error=None if error is None else str(error)))

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        """Write the failed clips (rank 0).

        Args:
            results (list[dict]): Records of all ranks.
        """
        records = deduplicate(results, type(self).__name__)
        failed = [r for r in records if r['error'] is not None]
        failed.sort(key=lambda r: (r['sample_idx'] is None, r['sample_idx'] or 0))
        loading = [dict(file=f.get('file'), filename=f.get('filename'), stage='metadata',
                        sample_idx=None, error=f.get('error'))
                   for f in (self.dataset_meta or {}).get('load_failures', [])]
        failed = loading + failed
        with atomic_open(self.out_file) as f:
            for r in failed:
                r.pop('key', None)
                f.write(json.dumps(r) + '\n')
        if failed:
            print_log(f'{len(failed)} of {len(records)} clips could not be scored; listed in '
                      f'{self.out_file}', logger='current', level=30)
        return dict(num_failed=len(failed))
