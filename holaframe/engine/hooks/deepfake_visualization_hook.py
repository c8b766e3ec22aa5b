"""Test-time plots: ROC curve, score histograms per manipulation type, frame-score timelines."""

import os.path as osp
import re
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
from mmengine.dist import all_gather_object, is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log

from holaframe.evaluation.records import clip_key, deduplicate, get_field, to_float
from holaframe.registry import HOOKS
from holaframe.visualization import DeepfakeVisualizer


def _safe_name(text: str) -> str:
    """A file name made of the clip path (``a/b.mp4`` -> ``a_b.mp4``)."""
    return re.sub(r'[^A-Za-z0-9._-]+', '_', str(text)).strip('_') or 'clip'


@HOOKS.register_module()
class DeepfakeVisualizationHook(Hook):
    """Draw the plots of a test run with :class:`~holaframe.visualization.DeepfakeVisualizer`.

    During testing it keeps one small record per clip (score, label, group, optional frame
    scores); after the test epoch the records of all ranks are gathered, duplicates from padded
    samplers dropped, and rank 0 writes into ``out_dir``:

    - ``roc.png``: ROC curve of the labeled clips (when both classes are present);
    - ``score_histograms.png``: histograms of the fake probability per value of the
      ``group_by`` metainfo (``modify_type``: real / visual / audio / both modified), or per
      label when a clip lacks it;
    - ``timelines/<file>.png``: for up to ``max_timelines`` clips whose predictions carry
      ``pred_frame_scores`` (a per-position fake probability ``(L,)``), the scores against time
      (from the ``frame_inds`` metainfo and ``fps``) with the annotated ``fake_segments``.

    The same images go to the visualizer's vis backends when the runner's visualizer is a
    ``DeepfakeVisualizer`` (e.g. TensorBoard); otherwise only the files are written.
    ``tools/test.py --show-dir DIR`` adds this hook.

    Args:
        out_dir (str, optional): Output folder; defaults to ``<work_dir>/<timestamp>/plots``.
        group_by (str): Metainfo key of the histogram groups.
        threshold (float): Decision threshold drawn on the plots.
        max_timelines (int): Most timelines written (per rank before gathering).
        fps (float): Frame rate used for ``frame_inds`` when the sample has no ``avg_fps``.
    """

    priority = 'LOW'

    def __init__(self,
                 out_dir: Optional[str] = None,
                 group_by: str = 'modify_type',
                 threshold: float = 0.5,
                 max_timelines: int = 16,
                 fps: float = 25.0) -> None:
        if max_timelines < 0:
            raise ValueError(f'max_timelines must be >= 0, got {max_timelines}')
        if fps <= 0:
            raise ValueError(f'fps must be positive, got {fps}')
        self.out_dir = out_dir
        self.group_by = group_by
        self.threshold = float(threshold)
        self.max_timelines = int(max_timelines)
        self.fps = float(fps)
        self._records: List[Dict[str, Any]] = []

    def before_test_epoch(self, runner) -> None:
        """Forget the records of a previous test run."""
        self._records = []

    def after_test_iter(self, runner, batch_idx: int, data_batch: Any = None,
                        outputs: Optional[Sequence] = None) -> None:
        """Keep one record per predicted clip."""
        with_timeline = sum(1 for r in self._records if 'frame_scores' in r)
        for sample in outputs or ():
            score = get_field(sample, 'pred_score')
            if score is None or get_field(sample, 'load_error') is not None:
                continue
            gt = get_field(sample, 'gt_label')
            group = get_field(sample, self.group_by)
            record = dict(key=clip_key(sample), file=str(get_field(sample, 'file', '')),
                          score=to_float(score), label=-1 if gt is None else int(to_float(gt)),
                          group=None if group is None else str(group))
            frame_scores = get_field(sample, 'pred_frame_scores')
            if frame_scores is not None and with_timeline < self.max_timelines:
                record['frame_scores'] = _as_array(frame_scores).tolist()
                record['times'] = self._times(sample, len(record['frame_scores']))
                record['fake_segments'] = [
                    [float(a), float(b)] for a, b in (get_field(sample, 'fake_segments') or [])]
                with_timeline += 1
            self._records.append(record)

    def after_test_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        """Gather the records and write the plots (rank 0)."""
        gathered = [r for part in all_gather_object(self._records) for r in part]
        self._records = []
        if not is_main_process():
            return
        records = deduplicate(gathered, type(self).__name__)
        if not records:
            print_log('DeepfakeVisualizationHook: no predictions to plot.', logger='current')
            return
        out_dir = self.out_dir or osp.join(runner.work_dir, runner.timestamp, 'plots')
        visualizer = runner.visualizer
        if not isinstance(visualizer, DeepfakeVisualizer):
            visualizer = DeepfakeVisualizer(name=f'{runner.experiment_name}_plots')
        written = self.draw(visualizer, records, out_dir)
        print_log(f'DeepfakeVisualizationHook: {len(written)} plots written to {out_dir}',
                  logger='current')

    def draw(self, visualizer: DeepfakeVisualizer, records: List[Dict[str, Any]],
             out_dir: str) -> List[str]:
        """Write the plots of ``records`` into ``out_dir``; returns the written files."""
        written = []
        scores = np.array([r['score'] for r in records], dtype=np.float64)
        labels = np.array([r['label'] for r in records], dtype=np.int64)
        labeled = labels >= 0
        if np.unique(labels[labeled]).size == 2:
            out = osp.join(out_dir, 'roc.png')
            visualizer.add_roc(labels[labeled], scores[labeled], name='roc', out_file=out)
            written.append(out)
        else:
            print_log('DeepfakeVisualizationHook: no ROC curve (needs labeled real and fake '
                      'clips).', logger='current')
        groups = [r['group'] if r['group'] is not None else
                  {0: 'real', 1: 'fake'}.get(r['label'], 'unlabeled') for r in records]
        out = osp.join(out_dir, 'score_histograms.png')
        visualizer.add_score_histograms(scores, groups=groups, name='score_histograms',
                                        out_file=out, threshold=self.threshold,
                                        title=f'Scores by {self.group_by}')
        written.append(out)
        timelines = [r for r in records if 'frame_scores' in r][:self.max_timelines]
        for r in timelines:
            name = _safe_name(r['file'] or r['key'])
            out = osp.join(out_dir, 'timelines', f'{osp.splitext(name)[0]}.png')
            title = f'{r["file"] or r["key"]} (label {r["label"]}, score {r["score"]:.3f})'
            visualizer.add_frame_timeline(r['frame_scores'], r['times'], r['fake_segments'],
                                          name=f'timeline/{name}', out_file=out,
                                          threshold=self.threshold, title=title)
            written.append(out)
        return written

    def _times(self, sample: Any, length: int) -> Optional[List[float]]:
        """Seconds of ``length`` positions spread over the sampled frames, if known."""
        inds = get_field(sample, 'frame_inds')
        if inds is None:
            return None
        inds = _as_array(inds).reshape(-1)
        if inds.size == 0:
            return None
        fps = float(get_field(sample, 'avg_fps', self.fps) or self.fps)
        pos = np.linspace(0, inds.size - 1, length)
        return (np.interp(pos, np.arange(inds.size), inds) / fps).tolist()


def _as_array(value: Any) -> np.ndarray:
    if hasattr(value, 'detach'):
        value = value.detach().float().cpu().numpy()
    return np.asarray(value, dtype=np.float64).reshape(-1)
