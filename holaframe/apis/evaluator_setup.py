"""Config edits of ``tools/test.py``: output files, submission, plots, leading-silence audit."""

import copy
import os.path as osp
import time
from typing import List, Optional

from mmengine.config import Config, ConfigDict

#: Frame samplers after which ``TrimLeadingSilence`` is inserted.
FRAME_SAMPLERS = ('UniformSampleFrames', 'SampleClipFrames', 'DenseSampleFrames')


def _metric_list(evaluator) -> List[dict]:
    """The metric configs of a ``test_evaluator`` (dict, list, or ``Evaluator`` dict)."""
    if evaluator is None:
        return []
    if isinstance(evaluator, dict) and 'metrics' in evaluator:
        metrics = evaluator['metrics']
        return list(metrics) if isinstance(metrics, (list, tuple)) else [metrics]
    if isinstance(evaluator, (list, tuple)):
        return list(evaluator)
    return [evaluator]


def _is_video_metric(metric) -> bool:
    return isinstance(metric, dict) and metric.get('type') in ('VideoMetric',
                                                                'holaframe.VideoMetric')


def add_test_outputs(cfg: Config,
                     work_dir: str,
                     submission: Optional[str] = None,
                     leading_silence_audit: bool = False,
                     out: Optional[str] = None,
                     dump: Optional[str] = None,
                     error_report: Optional[str] = None,
                     fallback_score: float = 0.5) -> Config:
    """Make the test evaluator write a ROC image, per-clip scores, predictions, a submission
    and the error report.

    Every ``VideoMetric`` gets ``roc_file=<work_dir>/roc.png`` and
    ``scores_file=<work_dir>/scores.jsonl`` unless set (they are only written for labeled
    subsets), and ``leading_silence_audit`` when asked. With ``submission`` a
    ``SubmissionWriter`` writing that file is appended (labeled or unlabeled subsets), or a
    ``Track2SubmissionWriter`` (the Track 2 JSON of ``pred_segments``) when it ends in
    ``.json``; ``out``
    and ``dump`` add ``PredictionWriter`` (compact records / every field). An
    ``ErrorReportWriter`` always lists the clips that could not be read (``error_report``,
    default ``<work_dir>/errors.jsonl``), and the test dataset gets ``skip_bad_samples=True``
    unless the config sets it: an unreadable clip is listed there (and gets ``fallback_score``
    in the submission) instead of stopping the run.

    Args:
        cfg (Config): The test config (changed in place and returned).
        work_dir (str): Output folder.
        submission (str, optional): Submission file to write.
        leading_silence_audit (bool): Also measure the leading-silence leak.
        out (str, optional): Per-clip predictions (JSON; pickle for ``.pkl``).
        dump (str, optional): Every predicted field per clip (JSON; pickle for ``.pkl``).
        error_report (str, optional): JSON-lines list of the clips that failed.
        fallback_score (float): Submission score of a clip that could not be read.
    """
    metrics = [copy.deepcopy(m) for m in _metric_list(cfg.get('test_evaluator'))]
    for metric in metrics:
        if _is_video_metric(metric):
            metric.setdefault('roc_file', osp.join(work_dir, 'roc.png'))
            metric.setdefault('scores_file', osp.join(work_dir, 'scores.jsonl'))
            if leading_silence_audit:
                metric['leading_silence_audit'] = True
    if not metrics and not (submission or out or dump):
        raise ValueError('The config has no test_evaluator and no --submission, --out or '
                         '--dump was asked: nothing to compute.')
    if submission and submission.lower().endswith('.json'):
        # Track 2 (temporal localisation): {"<file>": [[confidence, start, end], ...]}.
        metrics.append(ConfigDict(type='Track2SubmissionWriter', out_file=submission))
    elif submission:
        metrics.append(ConfigDict(type='SubmissionWriter', out_file=submission,
                                  unreadable_score=fallback_score))
    if out:
        metrics.append(ConfigDict(type='PredictionWriter', out_file=out))
    if dump:
        metrics.append(ConfigDict(type='PredictionWriter', out_file=dump, full=True,
                                  prefix='dump'))
    metrics.append(ConfigDict(type='ErrorReportWriter',
                              out_file=error_report or osp.join(work_dir, 'errors.jsonl')))
    cfg.test_evaluator = metrics
    dataset = (cfg.get('test_dataloader') or {}).get('dataset')
    if (isinstance(dataset, dict) and 'skip_bad_samples' not in dataset
            and _is_av_dataset(dataset.get('type'))):
        dataset['skip_bad_samples'] = True
    return cfg


def _is_av_dataset(type_name) -> bool:
    """Whether a dataset type is a :class:`holaframe.datasets.BaseAVDataset`."""
    from holaframe.datasets import BaseAVDataset
    from holaframe.registry import DATASETS
    cls = type_name if isinstance(type_name, type) else None
    if isinstance(type_name, str):
        cls = DATASETS.get(type_name.split('.')[-1])
    return isinstance(cls, type) and issubclass(cls, BaseAVDataset)


def leading_silence_audit_cfg(cfg: Config, work_dir: str) -> Config:
    """A copy of the test config that re-scores clips with their leading silence trimmed.

    ``AudioDecode`` and ``TrimLeadingSilence`` are placed right after the frame sampler of the
    test pipeline (before the frames are decoded); only the ``VideoMetric`` entries are kept,
    with the prefix ``trimmed`` and their own output files.

    Args:
        cfg (Config): The test config.
        work_dir (str): Output folder.
    """
    audit = copy.deepcopy(cfg)
    pipeline = audit.test_dataloader.dataset.pipeline
    pos = [i for i, t in enumerate(pipeline) if t.get('type') in FRAME_SAMPLERS]
    if not pos:
        raise ValueError(f'The leading-silence audit needs one of {FRAME_SAMPLERS} in the test '
                         'pipeline.')
    decoders = [i for i, t in enumerate(pipeline) if t.get('type') == 'AudioDecode']
    if not decoders:
        raise ValueError('The leading-silence audit needs AudioDecode in the test pipeline.')
    # The trim needs the waveform before the frames are decoded: AudioDecode only depends on
    # DecordInit, so it moves right after the frame sampler, followed by the trim.
    audio_decode = pipeline.pop(decoders[0])
    pos = [i for i, t in enumerate(pipeline) if t.get('type') in FRAME_SAMPLERS]
    pipeline.insert(pos[0] + 1, audio_decode)
    pipeline.insert(pos[0] + 2, ConfigDict(type='TrimLeadingSilence'))
    metrics = []
    for metric in _metric_list(audit.get('test_evaluator')):
        if _is_video_metric(metric):
            metric = copy.deepcopy(metric)
            metric.update(prefix='trimmed', leading_silence_audit=False,
                          roc_file=osp.join(work_dir, 'roc_trimmed.png'),
                          scores_file=osp.join(work_dir, 'scores_trimmed.jsonl'))
            metrics.append(metric)
    if not metrics:
        raise ValueError('The leading-silence audit needs a VideoMetric in test_evaluator.')
    audit.test_evaluator = metrics
    plots = (audit.get('default_hooks') or {}).get('visualization')
    if plots and plots.get('out_dir'):  # --show-dir: the trimmed run's plots in a sub-folder
        plots['out_dir'] = osp.join(plots['out_dir'], 'trimmed')
    # A distinct name: MMEngine keys its logger and visualizer instances by experiment name.
    stamp = time.strftime('%Y%m%d_%H%M%S', time.localtime())
    audit.experiment_name = f'{audit.get("experiment_name") or "test"}_trimmed_{stamp}'
    return audit


def add_show_dir(cfg: Config, show_dir: str, max_timelines: int = 16) -> Config:
    """Make the test run write its plots (ROC, score histograms, frame timelines) to ``show_dir``.

    Adds ``DeepfakeVisualizationHook(out_dir=show_dir)`` as ``default_hooks.visualization`` and,
    when the config uses MMEngine's plain ``Visualizer`` (or none), switches it to
    ``DeepfakeVisualizer`` with the same vis backends, so the plots also reach them (e.g.
    TensorBoard).

    Args:
        cfg (Config): The test config (changed in place and returned).
        show_dir (str): Output folder of the plots.
        max_timelines (int): Most per-clip frame-score timelines written.
    """
    hooks = cfg.get('default_hooks') or ConfigDict()
    hooks['visualization'] = ConfigDict(type='DeepfakeVisualizationHook', out_dir=show_dir,
                                        max_timelines=max_timelines)
    cfg.default_hooks = hooks
    visualizer = cfg.get('visualizer')
    if visualizer is None:
        cfg.visualizer = ConfigDict(type='DeepfakeVisualizer')
    elif visualizer.get('type') in ('Visualizer', 'mmengine.Visualizer'):
        visualizer['type'] = 'DeepfakeVisualizer'
    return cfg
