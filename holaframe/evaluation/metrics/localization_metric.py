"""Temporal localisation metric of the challenge's Track 2: AP, AR and the score."""

import logging
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from holaframe.evaluation.localization_functional import (
    AP_IOU_THRESHOLDS,
    AR_IOU_THRESHOLDS,
    AR_NUM_PROPOSALS,
    as_proposals,
    as_segments,
    localization_metrics,
    sort_proposals,
)
from holaframe.evaluation.records import clip_key, deduplicate, get_field, to_float
from holaframe.registry import METRICS


def _threshold_name(value: float) -> str:
    return f'{value:g}'


@METRICS.register_module()
class LocalizationMetric(BaseMetric):
    """AP, AR and score of the 1M-Deepfakes Detection Challenge, Track 2.

    Each prediction carries ``pred_segments``, ``(N >= 1, 3)`` rows
    ``[confidence, start_s, end_s]``; the ground truth is the ``fake_segments`` metainfo
    (``[[start_s, end_s], ...]``, empty for a real video). The arithmetic is that of the
    official SDK's ``ap_ar_1d`` (``avdeepfake1m`` 0.0.4), quirks included; see
    :mod:`holaframe.evaluation.localization_functional` and docs/evaluation.md. The proposals of
    each video are first sorted by confidence (descending, ties in their order), as the Track 2
    submission writer stores them, so the metric equals the SDK's score of that file.

    Reported keys (with the prefix, default ``track2``): ``ap@{t}`` for each AP IoU threshold
    (``ap@0.5``, ``ap@0.75``, ``ap@0.9``, ``ap@0.95``), ``ar@{n}`` for each proposal count
    (``ar@50`` ... ``ar@5``), ``mean_ap``, ``mean_ar``, ``score`` (``0.5 * mean_ap +
    0.5 * mean_ar``), ``num_videos``, ``num_fake`` and ``num_segments``.

    Each video counts once: records are deduplicated by the ``file`` metainfo (else
    ``sample_idx``) after collection from all ranks, as in
    :class:`~holaframe.evaluation.VideoMetric`. Videos with ``gt_label`` -1 (unlabeled subsets)
    are skipped, and so are videos that could not be read (``load_error``; counted as
    ``num_unreadable``). A set without any fake segment raises a ``ValueError`` (AP is
    undefined there; the SDK returns NaN).

    Args:
        ap_iou_thresholds (Sequence[float]): IoU thresholds of AP.
        ar_num_proposals (Sequence[int]): Proposal counts of AR.
        ar_iou_thresholds (Sequence[float]): IoU thresholds averaged in each AR.
        collect_device (str): ``cpu`` or ``gpu``, for collecting results from the ranks.
        prefix (str, optional): Metric name prefix; default ``track2``.
        collect_dir (str, optional): Directory for collection through the file system.
    """

    default_prefix = 'track2'

    def __init__(self,
                 ap_iou_thresholds: Sequence[float] = AP_IOU_THRESHOLDS,
                 ar_num_proposals: Sequence[int] = AR_NUM_PROPOSALS,
                 ar_iou_thresholds: Sequence[float] = AR_IOU_THRESHOLDS,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        self.ap_iou_thresholds = tuple(float(t) for t in ap_iou_thresholds)
        self.ar_num_proposals = tuple(int(n) for n in ar_num_proposals)
        self.ar_iou_thresholds = tuple(float(t) for t in ar_iou_thresholds)
        for t in self.ap_iou_thresholds + self.ar_iou_thresholds:
            if not 0.0 <= t < 1.0:
                raise ValueError(f'localization_metric.py: IoU thresholds must lie in [0, 1), '
                                 f'got {t}')
        if not self.ar_num_proposals or min(self.ar_num_proposals) < 1:
            raise ValueError(f'localization_metric.py: ar_num_proposals must be positive, got '
                             f'{self.ar_num_proposals}')

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Store one small CPU record per video.

        Args:
            data_batch: The batch from the dataloader (unused).
            data_samples (Sequence): ``AVDataSample`` (or dicts) with ``pred_segments`` and the
                ``fake_segments`` metainfo.
        """
        for sample in data_samples:
            key = clip_key(sample)
            where = f'video {get_field(sample, "file", key)!r}'
            error = get_field(sample, 'load_error')
            gt = get_field(sample, 'gt_label')
            segments = get_field(sample, 'fake_segments')
            if gt is not None:
                label = int(to_float(gt))
            else:  # no label field: the segments decide
                label = -1 if segments is None else int(len(segments) > 0)
            record = dict(key=key, file=get_field(sample, 'file', key), label=label,
                          load_error=None if error is None else str(error))
            if error is None and label in (0, 1):
                pred = get_field(sample, 'pred_segments')
                if pred is None:
                    raise KeyError(f'LocalizationMetric: {where} has no `pred_segments` '
                                   '(N, 3) [confidence, start_s, end_s] prediction.')
                if segments is None:
                    raise KeyError(f'LocalizationMetric: {where} has no `fake_segments` '
                                   'metainfo (the ground truth; [] for a real video).')
                record['proposals'] = sort_proposals(as_proposals(pred, where))
                record['segments'] = as_segments(segments, where)
            self.results.append(record)

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        """Reduce the collected records (runs on rank 0 only).

        Args:
            results (list[dict]): Records of all ranks.
        """
        records = deduplicate(results, type(self).__name__)
        unreadable = [r for r in records if r['load_error']]
        if unreadable:
            print_log(f'LocalizationMetric: {len(unreadable)} of {len(records)} videos could '
                      'not be read and are left out.', logger='current',
                      level=logging.WARNING)
        labeled = [r for r in records if not r['load_error'] and r['label'] in (0, 1)]
        skipped = len(records) - len(unreadable) - len(labeled)
        if skipped:
            print_log(f'LocalizationMetric: {skipped} of {len(records)} videos are unlabeled '
                      'and are not evaluated (write a submission for unlabeled subsets).',
                      logger='current', level=logging.WARNING)
        extra = {'num_unreadable': len(unreadable)} if unreadable else {}
        if not labeled:
            return extra
        num_segments = int(sum(len(r['segments']) for r in labeled))
        if num_segments == 0:
            raise ValueError(f'LocalizationMetric: none of the {len(labeled)} evaluated videos '
                             'has a fake segment; AP is undefined.')
        out = localization_metrics([r['proposals'] for r in labeled],
                                   [r['segments'] for r in labeled], self.ap_iou_thresholds,
                                   self.ar_num_proposals, self.ar_iou_thresholds,
                                   names=[str(r['file']) for r in labeled])
        metrics: Dict[str, float] = {}
        for t, v in out['ap'].items():
            metrics[f'ap@{_threshold_name(t)}'] = v
        for n, v in out['ar'].items():
            metrics[f'ar@{n}'] = v
        metrics['mean_ap'] = float(np.mean(list(out['ap'].values())))
        metrics['mean_ar'] = float(np.mean(list(out['ar'].values())))
        metrics['score'] = out['score']
        metrics['num_videos'] = len(labeled)
        metrics['num_fake'] = int(sum(len(r['segments']) > 0 for r in labeled))
        metrics['num_segments'] = num_segments
        metrics.update(extra)
        return metrics
