"""Video-level metric: AUC (Eq. 14), ACC, WA-F1 and UAR, overall and per group."""

import json
import logging
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from scipy.stats import spearmanr
from sklearn.metrics import roc_auc_score

from holaframe.evaluation.functional import accuracy_percent, binary_video_metrics
from holaframe.evaluation.leading_silence import file_leading_silence
from holaframe.evaluation.records import clip_key, deduplicate, get_field, to_float
from holaframe.registry import METRICS
from holaframe.utils.atomic_io import atomic_open


@METRICS.register_module()
class VideoMetric(BaseMetric):
    """Binary real/fake metrics of the challenge, safe under distributed evaluation.

    Reported keys (with the prefix, default ``video``):

    - ``auc`` (Eq. 14, ties get average ranks; in [0, 1]), ``acc``, ``wa_f1`` (weighted-average
      F1), ``uar`` (unweighted average recall) in percent as in Table 1, ``num_real``,
      ``num_fake``, ``num_clips``.
    - For every metainfo key in ``group_by`` and every value ``v`` of it:
      ``{key}/{v}/num_clips`` and ``{key}/{v}/acc``; when the group holds both classes also its
      ``auc``, ``wa_f1`` and ``uar``; when it holds one class only (e.g. ``modify_type``
      ``visual_modified``: all fake) its ``auc`` is that of the group's clips against every clip
      of the other class in the evaluated set (the usual per-manipulation AUC).
    - With ``leading_silence_audit=True``: ``silence/leak_auc``, the AUC of the leading-silence
      duration alone used as a fake score (0.5 = the set does not leak the label through the
      leading silence; far from 0.5 = it does), ``silence/score_spearman``, the rank correlation
      between the model's score and the leading silence (high = the model may time the silence),
      ``silence/mean_real_s``, ``silence/mean_fake_s`` and ``silence/num_no_audio`` (clips
      without an audio track, left out of the audit). See
      :mod:`holaframe.datasets.leading_silence` for the definition.

    Each clip is counted once: records are deduplicated by the ``file`` metainfo (else
    ``sample_idx``) after collection from all ranks. Clips that could not be read (a
    ``load_error`` metainfo, from a dataset with ``skip_bad_samples``) are left out and counted
    as ``num_unreadable`` (present only when not 0). Clips with label -1 (unlabeled) are ignored;
    a set without any labeled clip yields no metric (with a warning). A set with only one class
    raises a ``ValueError``.

    Args:
        threshold (float): A clip is predicted fake when its score is ``>= threshold``.
        group_by (Sequence[str]): Metainfo keys to report per value (e.g. ``modify_type``,
            ``audio_model``, ``video_model``).
        leading_silence_audit (bool): Measure the leading silence of every clip (read from its
            ``filename``; a ``leading_silence`` metainfo value is used when present).
        roc_file (str, optional): Save the ROC curve image here.
        scores_file (str, optional): Save ``file, label, score`` per clip as JSON lines.
        collect_device (str): ``cpu`` or ``gpu``, for collecting results from the ranks.
        prefix (str, optional): Metric name prefix; default ``video``.
        collect_dir (str, optional): Directory for collection through the file system.
    """

    default_prefix = 'video'

    def __init__(self,
                 threshold: float = 0.5,
                 group_by: Sequence[str] = ('modify_type', ),
                 leading_silence_audit: bool = False,
                 roc_file: Optional[str] = None,
                 scores_file: Optional[str] = None,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix, collect_dir=collect_dir)
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f'threshold must lie in [0, 1] (a probability), got {threshold}')
        if isinstance(group_by, str):
            group_by = (group_by, )
        self.threshold = float(threshold)
        self.group_by = tuple(group_by)
        self.leading_silence_audit = leading_silence_audit
        self.roc_file = roc_file
        self.scores_file = scores_file

    def process(self, data_batch: Any, data_samples: Sequence[Any]) -> None:
        """Store one small CPU record per clip.

        Args:
            data_batch: The batch from the dataloader (unused).
            data_samples (Sequence): ``AVDataSample`` (or dicts) with ``pred_score``.
        """
        for sample in data_samples:
            score = get_field(sample, 'pred_score')
            if score is None:
                raise KeyError('VideoMetric needs `pred_score` (fake probability) in the '
                               "model's predictions; got a sample without it.")
            gt = get_field(sample, 'gt_label')
            label = -1 if gt is None else int(to_float(gt))
            error = get_field(sample, 'load_error')
            record = dict(
                key=clip_key(sample),
                file=get_field(sample, 'file', get_field(sample, 'sample_idx')),
                score=to_float(score),
                label=label,
                groups={
                    k: str(get_field(sample, k))
                    for k in self.group_by if get_field(sample, k) is not None
                },
                load_error=None if error is None else str(error))
            if error is not None:  # unreadable clip (dataset placeholder): no audio to audit
                record['leading_silence'] = None
            elif self.leading_silence_audit:
                silence = get_field(sample, 'leading_silence')
                if silence is None and get_field(sample, 'has_audio', True):
                    filename = get_field(sample, 'filename')
                    if filename is None:
                        raise KeyError('The leading-silence audit needs a `filename` metainfo.')
                    silence = file_leading_silence(filename)
                record['leading_silence'] = None if silence is None else float(silence)
            self.results.append(record)

    def compute_metrics(self, results: List[Dict]) -> Dict[str, float]:
        """Reduce the collected records (runs on rank 0 only).

        Args:
            results (list[dict]): Records of all ranks.
        """
        records = deduplicate(results, type(self).__name__)
        unreadable = [r for r in records if r.get('load_error')]
        if unreadable:
            print_log(
                f'VideoMetric: {len(unreadable)} of {len(records)} clips could not be read and '
                f'are left out of the metrics (e.g. {unreadable[0]["load_error"]}); see the '
                'bad-sample list in the work dir.', logger='current', level=logging.WARNING)
            records = [r for r in records if not r.get('load_error')]
        labeled = [r for r in records if r['label'] in (0, 1)]
        if len(labeled) < len(records):
            print_log(
                f'VideoMetric: {len(records) - len(labeled)} of {len(records)} clips are '
                'unlabeled and are not evaluated (write a submission for unlabeled subsets).',
                logger='current',
                level=logging.WARNING)
        if not labeled:
            return {'num_unreadable': len(unreadable)} if unreadable else {}
        labels = np.array([r['label'] for r in labeled], dtype=np.int64)
        scores = np.array([r['score'] for r in labeled], dtype=np.float64)

        metrics: Dict[str, float] = binary_video_metrics(labels, scores, self.threshold)
        metrics['num_clips'] = len(labeled)
        if unreadable:
            metrics['num_unreadable'] = len(unreadable)
        for key in self.group_by:
            metrics.update(self._group_metrics(key, labeled, labels, scores))
        if self.leading_silence_audit:
            metrics.update(self._silence_metrics(labeled, labels, scores))
        self._dump(labeled, labels, scores)
        return metrics

    def _group_metrics(self, key: str, labeled: List[Dict], labels: np.ndarray,
                       scores: np.ndarray) -> Dict[str, float]:
        """Metrics per value of the metainfo ``key``."""
        values = np.array([r['groups'].get(key, '') for r in labeled], dtype=object)
        out: Dict[str, float] = {}
        for value in sorted({v for v in values if v != ''}):
            member = values == value
            name = f'{key}/{value}'
            g_labels, g_scores = labels[member], scores[member]
            out[f'{name}/num_clips'] = int(member.sum())
            out[f'{name}/acc'] = accuracy_percent(g_labels, g_scores, self.threshold)
            if np.unique(g_labels).size == 2:
                group = binary_video_metrics(g_labels, g_scores, self.threshold,
                                             f'group {name}')
                for metric in ('auc', 'wa_f1', 'uar'):
                    out[f'{name}/{metric}'] = group[metric]
            else:
                # One class only: the group's clips against every clip of the other class.
                other = labels != g_labels[0]
                pair = member | other
                out[f'{name}/auc'] = float(roc_auc_score(labels[pair], scores[pair]))
        return out

    @staticmethod
    def _silence_metrics(labeled: List[Dict], labels: np.ndarray,
                         scores: np.ndarray) -> Dict[str, float]:
        """Leading-silence leak of the evaluated set and the model's dependence on it.

        Clips without an audio track have no leading silence and are left out.
        """
        keep = np.array([r['leading_silence'] is not None for r in labeled])
        out_prefix = 'silence/'
        if np.unique(labels[keep]).size < 2:
            print_log('VideoMetric: the leading-silence audit needs clips of both classes with '
                      'an audio track; skipped.', logger='current', level=logging.WARNING)
            return {f'{out_prefix}num_no_audio': int((~keep).sum())}
        silence = np.array([r['leading_silence'] for r in labeled if r['leading_silence']
                            is not None], dtype=np.float64)
        labels, scores = labels[keep], scores[keep]
        out = dict(
            num_no_audio=int((~keep).sum()),
            leak_auc=float(roc_auc_score(labels, silence)),
            mean_real_s=float(silence[labels == 0].mean()),
            mean_fake_s=float(silence[labels == 1].mean()),
        )
        if np.ptp(silence) > 0 and np.ptp(scores) > 0:
            out['score_spearman'] = float(spearmanr(scores, silence).statistic)
        else:
            out['score_spearman'] = 0.0  # a constant has no rank correlation with anything
        return {f'{out_prefix}{k}': v for k, v in out.items()}

    def _dump(self, labeled: List[Dict], labels: np.ndarray, scores: np.ndarray) -> None:
        """Write the optional ROC image and per-clip scores."""
        if self.roc_file:
            from holaframe.visualization.roc import save_roc_curve
            save_roc_curve(labels, scores, self.roc_file, title=self.prefix or 'ROC')
            print_log(f'ROC curve saved to {self.roc_file}', logger='current')
        if self.scores_file:
            with atomic_open(self.scores_file) as f:
                for r in labeled:
                    row = dict(file=str(r['file']), label=r['label'], score=r['score'])
                    row.update(r['groups'])
                    f.write(json.dumps(row) + '\n')
