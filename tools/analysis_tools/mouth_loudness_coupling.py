#!/usr/bin/env python
"""How closely a dataset's mouths follow the loudness of its speech, measured without a model.

Usage::

    python tools/analysis_tools/mouth_loudness_coupling.py ROOT [--config CONFIG] \
        [--split val] [--max-lag 2] [--smooth 9] [--out FILE]

``ROOT``: an AV-Deepfake1M++-format dataset. Every clip of ``ROOT/<split>`` goes through the
test pipeline of ``CONFIG`` (default: the face-tracked 48 px mouth crops and per-frame log-mel
of ``configs/generalisation/av-align-sync_tiny_1xb8-10min_synthetic.py``), and two fixed
per-frame signals are read, both standardised over the clip:

* ``d_t``, the **mouth darkness**: minus the mean grey level of the central half of the mouth
  crop (an opening mouth shows the dark cavity, whatever draws it);
* ``l_t``, the **loudness**: the mean of the frame's log-mel values.

Printed and written as JSON (default ``<ROOT>_<split>_coupling.json`` in the current folder):

* on the real clips, the mean correlation ``corr(d_t, l_{t+k})`` at each lag ``k = -S..S``
  (``+k``: the sound ``k`` frames after the mouth, as in ``alignment_lag.py``), and how many
  clips correlate best at each lag;
* on all clips, the AUC (overall and per ``modify_type``) of a detector with no parameters:
  at the clip's best lag, the squared difference ``(d_t - l_{t+k})^2`` averaged over
  ``smooth`` frames, its largest value minus its median.

What it tells: a source whose mouths open with the loudness (correlation near 1) teaches an
alignment model, which learns whatever coupling its training reals show, to read loudness off
the mouth; on a source whose mouths follow articulation instead (open vowels wide, /p b m/
closed) that model can do no better than this loudness coupling allows. The parameter-free AUC
is that floor, and the same number on both sources says how much of a cross-source gap is the
coupling itself.
"""

import argparse
import json
import os.path as osp
import sys
from typing import Dict, List, Optional

import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

DEFAULT_CONFIG = osp.join(REPO, 'configs', 'generalisation',
                          'av-align-sync_tiny_1xb8-10min_synthetic.py')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='AV-Deepfake1M++-format dataset root')
    parser.add_argument('--config', default=DEFAULT_CONFIG,
                        help='config whose test pipeline gives mouth crops and per-frame '
                             'audio features (default: %(default)s)')
    parser.add_argument('--split', default='val', help='labelled subset (default: val)')
    parser.add_argument('--max-lag', type=int, default=2, help='S, lags searched (frames)')
    parser.add_argument('--smooth', type=int, default=9, help='frames averaged in the score')
    parser.add_argument('--out', help='JSON file (default: <root name>_<split>_coupling.json)')
    return parser.parse_args(argv)


def _standardise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float64) - np.mean(x)
    return x / max(float(x.std()), 1e-8)


def mouth_darkness(video: np.ndarray) -> np.ndarray:
    """``(T,)`` minus the mean grey level of the central half of each ``(C, T, H, W)`` frame."""
    grey = np.asarray(video, np.float64).mean(axis=0)
    _, h, w = grey.shape
    return -grey[:, h // 4:h - h // 4, w // 4:w - w // 4].mean(axis=(1, 2))


def loudness(audio: np.ndarray) -> np.ndarray:
    """``(T,)``: the mean of each frame's audio features (log-mel values)."""
    return np.asarray(audio, np.float64).reshape(len(audio), -1).mean(axis=1)


def _pairs(d: np.ndarray, loud: np.ndarray, k: int):
    """``(d_t, l_{t+k})`` over the frames where both exist."""
    n = len(d)
    return (d[:n - k], loud[k:]) if k >= 0 else (d[-k:], loud[:n + k])


def lag_correlations(d: np.ndarray, loud: np.ndarray, max_lag: int) -> np.ndarray:
    """``(2S + 1,)``: ``corr(d_t, l_{t+k})`` for ``k = -S..S`` (0 where a signal is flat)."""
    d, loud = np.asarray(d, np.float64), np.asarray(loud, np.float64)
    out = []
    for k in range(-max_lag, max_lag + 1):
        x, y = _pairs(d, loud, k)
        sx, sy = x.std(), y.std()
        out.append(0.0 if min(sx, sy) < 1e-8 else float(np.mean((x - x.mean()) * (y - y.mean()))
                                                          / (sx * sy)))
    return np.array(out)


def disagreement_score(d: np.ndarray, loud: np.ndarray, max_lag: int, smooth: int) -> float:
    """The parameter-free clip score: at the best lag, the largest ``smooth``-frame mean of
    ``(d_t - l_{t+k})^2`` (both standardised) minus the median of the squared difference."""
    k = int(np.argmax(lag_correlations(d, loud, max_lag))) - max_lag
    x, y = _pairs(np.asarray(d, np.float64), np.asarray(loud, np.float64), k)
    m = (_standardise(x) - _standardise(y)) ** 2
    width = max(1, min(smooth, len(m)))
    local = np.convolve(m, np.ones(width) / width, mode='valid')
    return float(local.max() - np.median(m))


def read_clips(config: str, root: str, split: str) -> List[Dict]:
    """Mouth darkness, loudness, label and type of every clip of ``root/split``."""
    from mmengine.config import Config
    from mmengine.dataset import Compose

    from holaframe.registry import TRANSFORMS
    from holaframe.utils import register_all_modules
    register_all_modules()
    meta_file = osp.join(root, f'{split}_metadata.json')
    if not osp.isfile(meta_file):
        raise SystemExit(f'mouth_loudness_coupling.py: no {meta_file} (a labelled split of an '
                         f'AV-Deepfake1M++-format root)')
    cfg = Config.fromfile(config)
    pipeline = Compose([TRANSFORMS.build(t) for t in cfg.test_dataloader.dataset.pipeline])
    with open(meta_file) as f:
        metas = json.load(f)
    clips = []
    for i, meta in enumerate(metas):
        results = pipeline(dict(filename=osp.join(root, split, meta['file']), file=meta['file'],
                                gt_label=int(bool(meta.get('fake_segments'))), sample_idx=i))
        sample = results['data_samples']
        n = int(sample.metainfo.get('num_valid_frames', results['inputs']['video'].shape[1]))
        video = results['inputs']['video'][:, :n].numpy()
        audio = results['inputs']['audio'][:n].numpy()
        if video.ndim != 4 or audio.ndim != 2:
            raise SystemExit(f'mouth_loudness_coupling.py: {config} gives video '
                             f'{video.shape} and audio {audio.shape}; it needs per-frame '
                             f'crops (C, T, H, W) and per-frame audio features (T, F)')
        clips.append(dict(file=meta['file'], label=int(bool(meta.get('fake_segments'))),
                          modify_type=meta.get('modify_type', 'unknown'),
                          has_audio=bool(sample.metainfo.get('has_audio', True))
                          and bool(np.abs(audio).sum() > 0),
                          darkness=mouth_darkness(video), loudness=loudness(audio)))
    return clips


def summarise(clips: List[Dict], max_lag: int, smooth: int) -> Dict:
    """The report: lag correlations of the real clips and the parameter-free AUCs."""
    from holaframe.evaluation.functional import rank_auc
    lags = list(range(-max_lag, max_lag + 1))
    usable = [c for c in clips if c['has_audio'] and len(c['darkness']) > 2 * max_lag + 2]
    reals = [c for c in usable if c['label'] == 0]
    if not reals:
        raise SystemExit('mouth_loudness_coupling.py: no real clip with audio in the split')
    corr = np.stack([lag_correlations(c['darkness'], c['loudness'], max_lag) for c in reals])
    best = corr.argmax(1) - max_lag
    scores = {c['file']: disagreement_score(c['darkness'], c['loudness'], max_lag, smooth)
              for c in usable}
    labels = [c['label'] for c in usable]
    report = dict(num_clips=len(usable), num_real=len(reals), lags=lags,
                  mean_correlation=[round(float(v), 4) for v in corr.mean(0)],
                  best_lag_counts={str(k): int((best == k).sum()) for k in lags})
    if 0 < sum(labels) < len(labels):
        report['auc'] = round(float(rank_auc(labels, [scores[c['file']] for c in usable])), 4)
        for t in sorted({c['modify_type'] for c in usable if c['label'] == 1}):
            part = [c for c in usable if c['label'] == 0 or c['modify_type'] == t]
            report[f'auc_{t}'] = round(float(rank_auc(
                [c['label'] for c in part], [scores[c['file']] for c in part])), 4)
    return report


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    if args.max_lag < 0 or args.smooth < 1:
        raise SystemExit('mouth_loudness_coupling.py: --max-lag must be >= 0 and --smooth >= 1')
    clips = read_clips(args.config, args.root, args.split)
    report = dict(root=args.root, split=args.split, config=args.config,
                  **summarise(clips, args.max_lag, args.smooth))
    out = args.out or f'{osp.basename(osp.normpath(args.root))}_{args.split}_coupling.json'
    with open(out, 'w') as f:
        json.dump(report, f, indent=2)
    lags = report['lags']
    print(f'{report["num_real"]} real of {report["num_clips"]} clips with audio in '
          f'{args.root}/{args.split}')
    print('lag (frames, sound later > 0):    ' + ' '.join(f'{k:+6d}' for k in lags))
    print('corr(mouth darkness, loudness):   ' + ' '.join(
        f'{v:+6.2f}' for v in report['mean_correlation']))
    print('real clips correlating best there: ' + ' '.join(
        f'{report["best_lag_counts"][str(k)]:5d}' for k in lags))
    if 'auc' in report:
        per_type = ', '.join(f'{k[4:]} {v:.3f}' for k, v in report.items()
                             if k.startswith('auc_'))
        print(f'parameter-free detector: AUC {report["auc"]:.3f} ({per_type})')
    print(f'wrote {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
