#!/usr/bin/env python
"""Cross-dataset protocol: train a config on each source set, test it on every target set.

Usage::

    python tools/analysis_tools/cross_dataset.py CONFIG --train A B --test A B \
        [--work-dir DIR] [--split val] [--reals-quantile Q] [--cfg-options KEY=VALUE ...]

``A``, ``B`` are AV-Deepfake1M++-format dataset roots, or ``name=root`` pairs (the name defaults
to the root's folder name). Under ``DIR`` (default ``work_dirs/cross_dataset/<config name>``):

1. ``<source>/train/``: ``tools/train.py CONFIG`` with every data root set to the source, as
   ``tools/analysis_tools/compare_models.py`` runs it: a finished run (``train.json`` and its
   checkpoint) is reused, an interrupted one continues with ``--resume``.
2. ``<source>/on_<target>/``: ``tools/test.py`` with the last checkpoint on the target's
   labelled ``--split`` (default ``val``); its per-clip scores are kept in ``result.json`` and
   reused on the next run.
3. Calibration transfer: the threshold that maximises accuracy on the source's own split is
   applied to every target; the matrix reports that ACC next to the target's best-threshold
   ACC (its own optimum, an oracle) and the AUC (threshold-free). A second transfer carries
   the threshold as a quantile of real-clip scores, set again on the target's own real clips
   (:func:`target_reals_threshold_acc`): a deployment with known-real videos but no fakes;
   ``--reals-quantile 0.95`` fixes that quantile instead (5% false alarms on real clips).

Outputs: ``matrix.json``, ``matrix.md`` and ``matrix.png`` (one heatmap panel per metric;
rows = training set, columns = test set). Every file is written atomically; running the same
command again resumes without training again. See ``docs/generalisation.md``.
"""

import argparse
import json
import os
import os.path as osp
import sys
import time
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.config import DictAction

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))

from compare_models import _fmt, _loadavg, evaluate, train  # noqa: E402

from holaframe.evaluation.functional import accuracy_percent, rank_auc  # noqa: E402
from holaframe.utils.atomic_io import atomic_write_text  # noqa: E402

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file trained on every source')
    parser.add_argument('--train', nargs='+', required=True,
                        help='source sets: dataset roots or name=root pairs')
    parser.add_argument('--test', nargs='+', required=True,
                        help='target sets: dataset roots or name=root pairs')
    parser.add_argument('--work-dir', help='folder of every run and the matrix (default '
                        'work_dirs/cross_dataset/<config name>)')
    parser.add_argument('--split', default='val', help='labelled subset evaluated on each set')
    parser.add_argument('--reals-quantile', type=float,
                        help='the quantile of a target\'s real-clip scores used as its '
                             'threshold in the "threshold from target reals" ACC, e.g. 0.95 '
                             '(5%% false alarms on real clips); default: the source '
                             'threshold\'s quantile among the source\'s real clips')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='overrides passed to every training and test run')
    return parser.parse_args(argv)


def parse_sets(items: Sequence[str]) -> Dict[str, str]:
    """``name=root`` or ``root`` items -> ordered ``{name: root}``.

    Raises:
        SystemExit: A root that is not a folder, or two sets with the same name.
    """
    sets: Dict[str, str] = {}
    for item in items:
        name, root = item.split('=', 1) if '=' in item else (None, item)
        name = name or osp.basename(osp.normpath(root))
        if not osp.isdir(root):
            raise SystemExit(f'cross_dataset.py: dataset root {root} (set {name!r}) is not a '
                             'folder')
        if name in sets and osp.abspath(sets[name]) != osp.abspath(root):
            raise SystemExit(f'cross_dataset.py: two sets named {name!r} ({sets[name]} and '
                             f'{root}); name them with name=root')
        sets[name] = root
    return sets


def best_threshold(labels: Sequence[int], scores: Sequence[float]) -> Tuple[float, float]:
    """The threshold with the highest accuracy (``score >= t`` is fake) and that accuracy (%).

    Candidates are the midpoints between consecutive distinct scores and both ends; ties go to
    the threshold closest to 0.5.
    """
    s = np.unique(np.asarray(scores, dtype=np.float64))
    cands = np.concatenate([[s[0] - 1e-6], (s[:-1] + s[1:]) / 2, [s[-1] + 1e-6]])
    accs = np.array([accuracy_percent(labels, scores, t) for t in cands])
    best = np.flatnonzero(accs >= accs.max() - 1e-9)
    i = best[np.argmin(np.abs(cands[best] - 0.5))]
    return float(cands[i]), float(accs[i])


def target_reals_threshold_acc(source_labels: Sequence[int], source_scores: Sequence[float],
                               threshold: float, labels: Sequence[int], scores: Sequence[float],
                               quantile: Optional[float] = None, splits: int = 20,
                               seed: int = 0) -> Optional[float]:
    """ACC (%) on the target with the threshold carried as a quantile of real-clip scores.

    The source threshold's rank among the source's real clips, ``q = P(score < t | real)``
    (or a fixed ``quantile``, a false-alarm rate of ``1 - q`` on real clips, which does not
    depend on either set's real:fake ratio), is applied as the ``q``-quantile of the target's
    own real clips: what a deployment can do with known-real videos of its own domain and no
    fakes. Cross-fitted so that no real clip
    sets its own threshold: the target's reals are split in two random halves, each half's
    quantile classifies the other half's reals and every fake (a fake's correctness is the
    mean of the two); the ACC over all clips is averaged over ``splits`` random splits. None
    with fewer than two source or target real clips.
    """
    y_src, s_src = np.asarray(source_labels), np.asarray(source_scores, dtype=np.float64)
    y, s = np.asarray(labels), np.asarray(scores, dtype=np.float64)
    reals = np.flatnonzero(y == 0)
    if (y_src == 0).sum() < 2 or len(reals) < 2:
        return None
    q = float(np.mean(s_src[y_src == 0] < threshold)) if quantile is None else float(quantile)
    fakes = s[y == 1]
    rng = np.random.default_rng(seed)
    accs = []
    for _ in range(splits):
        order = rng.permutation(reals)
        halves = order[:len(order) // 2], order[len(order) // 2:]
        correct = 0.0
        for cal, held in (halves, halves[::-1]):
            t = float(np.quantile(s[cal], q))
            correct += float(np.sum(s[held] < t)) + 0.5 * float(np.sum(fakes >= t))
        accs.append(100.0 * correct / len(y))
    return float(np.mean(accs))


def cell_metrics(source: dict, target: dict,
                 modify_types: Optional[Dict[str, str]] = None,
                 reals_quantile: Optional[float] = None) -> dict:
    """AUC and the ACCs of one (source model, target set) cell from per-clip scores.

    Args:
        source: The source model's ``labels`` and ``scores`` on the source's own split.
        target: Its ``files``, ``labels`` and ``scores`` on the target's split.
        modify_types: Target file -> ``modify_type``; adds ``auc_<type>`` (real clips vs the
            clips of that type) for every fake type present.
        reals_quantile: The quantile of the target's real clips used as its threshold in
            ``acc_target_reals_threshold``; None: the source threshold's own quantile among
            the source's real clips (:func:`target_reals_threshold_acc`).
    """
    thr, _ = best_threshold(source['labels'], source['scores'])
    labels, scores = target['labels'], target['scores']
    _, best_acc = best_threshold(labels, scores)
    out = dict(auc=rank_auc(labels, scores), acc_source_threshold=accuracy_percent(
        labels, scores, thr), acc_best_threshold=best_acc,
        acc_at_0_5=accuracy_percent(labels, scores, 0.5), source_threshold=thr,
        acc_all_fake=100.0 * float(np.mean(labels)), num_videos=len(labels),
        num_fake=int(sum(labels)),
        fake_rate_source_threshold=100.0 * float(np.mean(np.asarray(scores) >= thr)))
    reals_acc = target_reals_threshold_acc(source['labels'], source['scores'], thr, labels,
                                           scores, quantile=reals_quantile)
    if reals_acc is not None:
        out['acc_target_reals_threshold'] = reals_acc
    if modify_types:
        types = [modify_types.get(f, '') for f in target['files']]
        y, sc = np.asarray(labels), np.asarray(scores, dtype=np.float64)
        for t in sorted({t for t, lab in zip(types, labels) if lab == 1 and t}):
            keep = np.array([lab == 0 or ty == t for ty, lab in zip(types, labels)])
            if (y[keep] == 0).any():
                out[f'auc_{t}'] = rank_auc(y[keep], sc[keep])
    return out


def modify_types_of(root: str, split: str) -> Dict[str, str]:
    """File -> ``modify_type`` from ``root/<split>_metadata.json`` (empty when absent)."""
    path = osp.join(root, f'{split}_metadata.json')
    if not osp.isfile(path):
        return {}
    with open(path) as f:
        return {m['file']: m.get('modify_type', '') for m in json.load(f)}


def _options(cfg_options: dict, root: str) -> List[str]:
    opts = [f'{k}={_fmt(v)}' for k, v in cfg_options.items()]
    return opts + [f'{d}.dataset.data_root={root}' for d in LOADERS]


def _reals_rule(matrix: dict) -> str:
    q = matrix.get('reals_quantile')
    if q is None:
        return 'the source threshold\'s quantile among the source\'s real clips'
    return f'the {q:g} quantile of the real clips\' scores'


def render(matrix: dict) -> str:
    """The matrix as markdown tables, one per metric."""
    rows, cols, cells = matrix['train'], matrix['test'], matrix['cells']
    lines = [f'Config `{matrix["config"]}`; rows: training set, columns: test set '
             f'(`{matrix["split"]}` split). ACC @ source threshold: the threshold that '
             'maximises accuracy on the training set\'s own split, applied to the test set; '
             f'ACC @ threshold from target reals: {_reals_rule(matrix)}, applied to the test '
             'set\'s own real clips (cross-fitted over halves of them); ACC @ best threshold: '
             'the test set\'s own optimum.', '']
    for key, title, fmt in (('auc', 'AUC', '{:.3f}'),
                            ('acc_source_threshold', 'ACC (%) @ source threshold', '{:.1f}'),
                            ('acc_target_reals_threshold',
                             'ACC (%) @ threshold from target reals', '{:.1f}'),
                            ('acc_best_threshold', 'ACC (%) @ best threshold', '{:.1f}'),
                            ('acc_all_fake', 'ACC (%) calling every clip fake', '{:.1f}'),
                            ('fake_rate_source_threshold',
                             'clips called fake (%) @ source threshold', '{:.1f}'),
                            ('auc_visual_modified', 'AUC real vs visual_modified', '{:.3f}'),
                            ('auc_audio_modified', 'AUC real vs audio_modified', '{:.3f}'),
                            ('auc_both_modified', 'AUC real vs both_modified', '{:.3f}')):
        if not any(key in cell for row in cells.values() for cell in row.values()):
            continue
        lines += [f'**{title}**', '', '| train \\ test | ' + ' | '.join(cols) + ' |',
                  '|---|' + '---|' * len(cols)]
        for r in rows:
            vals = [fmt.format(cells[r][c][key]) if key in cells.get(r, {}).get(c, {}) else '-'
                    for c in cols]
            lines.append(f'| {r} | ' + ' | '.join(vals) + ' |')
        lines.append('')
    return '\n'.join(lines)


def save_heatmap(matrix: dict, out_file: str) -> None:
    """One heatmap panel per metric (rows: training set, columns: test set)."""
    from holaframe.visualization import robustness_heatmap_figure, save_figure

    rows, cols, cells = matrix['train'], matrix['test'], matrix['cells']
    panels, ranges = {}, {}
    for key, label, rng in (('auc', 'AUC', (0.5, 1.0)),
                            ('acc_source_threshold', 'ACC @ source thr (%)', (25.0, 100.0)),
                            ('acc_best_threshold', 'ACC @ best thr (%)', (25.0, 100.0))):
        panels[label] = np.array([[cells.get(r, {}).get(c, {}).get(key, np.nan) for c in cols]
                                  for r in rows], dtype=np.float64)
        ranges[label] = rng
    fig = robustness_heatmap_figure([f'train {r}' for r in rows], list(cols), panels,
                                    ranges=ranges, title='Cross-dataset')
    save_figure(fig, out_file)


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise SystemExit(f'cross_dataset.py: no config file {args.config}')
    sources, targets = parse_sets(args.train), parse_sets(args.test)
    if args.reals_quantile is not None and not 0.0 <= args.reals_quantile <= 1.0:
        raise SystemExit(f'cross_dataset.py: --reals-quantile must be in [0, 1], got '
                         f'{args.reals_quantile}')
    name = osp.splitext(osp.basename(args.config))[0]
    work = args.work_dir or osp.join(REPO, 'work_dirs', 'cross_dataset', name)
    os.makedirs(work, exist_ok=True)
    everything = dict(targets, **sources)
    matrix = dict(config=osp.relpath(osp.abspath(args.config), REPO), split=args.split,
                  reals_quantile=args.reals_quantile, train=list(sources), test=list(targets),
                  roots={k: v for k, v in everything.items()}, runs={}, cells={})
    for src, src_root in sources.items():
        run_dir = osp.join(work, src)
        t0 = time.time()
        trained = train(args.config, run_dir, _options(args.cfg_options, src_root))
        ckpt = trained['checkpoint']
        ckpt = ckpt if osp.isabs(ckpt) else osp.join(REPO, ckpt)
        matrix['runs'][src] = {k: v for k, v in trained.items()}
        print(f'train {src}: {"reused" if trained["reused"] else "done"} in '
              f'{time.time() - t0:.0f} s ({trained["wall_s"]:.0f} s of training); load '
              f'{_loadavg()}', flush=True)
        scores = {}
        for tgt in dict.fromkeys([src] + list(targets)):  # the source first: its threshold
            tgt_root = everything[tgt]
            cell_dir = osp.join(run_dir, f'on_{tgt}')
            result_file = osp.join(cell_dir, 'result.json')
            if osp.isfile(result_file):
                with open(result_file) as f:
                    scores[tgt] = json.load(f)
                continue
            t0 = time.time()
            ev = evaluate(args.config, ckpt, cell_dir, args.split,
                          _options(args.cfg_options, tgt_root))
            ev = dict(ev, root=tgt_root, checkpoint=trained['checkpoint'],
                      wall_s=round(time.time() - t0, 1), loadavg=_loadavg())
            atomic_write_text(result_file, json.dumps(ev))
            scores[tgt] = ev
            print(f'test {src} -> {tgt}: {len(ev["labels"])} clips in {ev["wall_s"]:.0f} s; '
                  f'load {ev["loadavg"]}', flush=True)
        matrix['cells'][src] = {
            tgt: cell_metrics(scores[src], scores[tgt],
                              modify_types_of(everything[tgt], args.split),
                              reals_quantile=args.reals_quantile)
            for tgt in targets}
        for tgt, c in matrix['cells'][src].items():
            reals = c.get('acc_target_reals_threshold')
            reals = '' if reals is None else f', {reals:.1f} @ a quantile of target reals'
            print(f'{src} -> {tgt}: AUC {c["auc"]:.3f}, ACC {c["acc_source_threshold"]:.1f} '
                  f'@ source threshold {c["source_threshold"]:.3f}{reals} (best '
                  f'{c["acc_best_threshold"]:.1f})', flush=True)
        atomic_write_text(osp.join(work, 'matrix.json'), json.dumps(matrix, indent=2))
        atomic_write_text(osp.join(work, 'matrix.md'), render(matrix))
        save_heatmap(matrix, osp.join(work, 'matrix.png'))
    print(f'matrix: {osp.join(work, "matrix.md")}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
