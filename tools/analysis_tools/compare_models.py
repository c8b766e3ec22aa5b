#!/usr/bin/env python
"""Train (or reuse) several configs, evaluate them the same way, and write a Table-1-style table.

Usage::

    python tools/analysis_tools/compare_models.py CONFIG [CONFIG ...] --work-dir DIR \
        [--data-root DIR] [--split val] [--resamples 1000] [--seed 0] [--force NAME ...] \
        [--cfg-options KEY=VALUE ...]

For each config, in the order given (one at a time), under ``DIR/<config name>/``:

1. ``train/``: ``tools/train.py CONFIG`` as a subprocess, with its log in ``train.log`` and its
   wall time in ``train.json``. A run with a finished ``train.json`` and its checkpoint is
   reused; a run that stopped half-way continues with ``--resume``.
2. ``eval/``: ``tools/test.py`` on the labelled ``--split`` (default ``val``) with the last
   checkpoint (the end of training, the same rule for every model: no checkpoint is picked
   on the evaluated set), through the config's own ``VideoMetric``; the per-clip scores
   (``scores.jsonl``) give ACC, WA-F1, UAR and AUC, each with a percentile-bootstrap 95%
   interval over videos (``--resamples``, the same resamples for every model:
   :mod:`holaframe.evaluation.bootstrap`).
3. Parameters and multiply-adds per clip (fvcore, attention included, inputs from the config's
   own pipeline: ``get_flops.compute_flops``) and the inference time of one clip (the model's
   forward pass at batch 1 in this process, median of 10 after 2 warm-up passes; decoding
   excluded).

Each model's record is written to ``DIR/<name>/record.json``; a model with a record is not
touched again (``--force NAME`` redoes it). After each model ``DIR/results.md`` and
``DIR/results.json`` are rewritten with every finished row, and a progress line is printed.
The table also compares the best audio+video model with the best single-modality model (by
AUC): the paired-bootstrap interval of the AUC difference on the same videos. Every file is
written atomically, so an interrupted run is resumed by running the same command again.
"""

import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
from typing import Dict, List, Optional

import numpy as np
import torch
from mmengine.config import Config, DictAction

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis_tools'))

from get_flops import compute_flops, pipeline_inputs  # noqa: E402

from holaframe.evaluation.bootstrap import (  # noqa: E402
    METRICS,
    bootstrap_video_metrics,
    paired_bootstrap_difference,
)
from holaframe.registry import MODELS  # noqa: E402
from holaframe.utils import register_all_modules  # noqa: E402
from holaframe.utils.atomic_io import atomic_write_text  # noqa: E402

SINGLE_MODALITY_TYPES = ('SingleModalityClassifier', 'HOLASingleModalityDetector')


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train and compare configs (Table 1 style)')
    parser.add_argument('configs', nargs='+', help='config files, compared in this order')
    parser.add_argument('--work-dir', required=True, help='folder of every run and the table')
    parser.add_argument('--data-root', help='dataset root for every config (default: theirs)')
    parser.add_argument('--split', default='val', help='labelled subset to evaluate on')
    parser.add_argument('--resamples', type=int, default=1000, help='bootstrap resamples')
    parser.add_argument('--seed', type=int, default=0, help='seed of the bootstrap resamples')
    parser.add_argument('--force', nargs='*', default=[],
                        help='config names (file names without .py) to train and evaluate anew')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='overrides passed to every config (train, test and counting)')
    return parser.parse_args(argv)


def config_name(path: str) -> str:
    return osp.splitext(osp.basename(path))[0]


def modality_of(cfg: Config) -> str:
    """``audio``, ``video`` or ``audio+video``: what the model reads."""
    if cfg.model.get('type') in SINGLE_MODALITY_TYPES:
        return cfg.model['modality']
    return 'audio+video'


def _options(args: argparse.Namespace) -> List[str]:
    opts = [f'{k}={_fmt(v)}' for k, v in args.cfg_options.items()]
    if args.data_root:
        opts += [f'{d}.dataset.data_root={args.data_root}'
                 for d in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    return opts


def _fmt(value) -> str:
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(_fmt(v) for v in value) + ']'
    return str(value)


def _run(cmd: List[str], log: str) -> None:
    """Run ``cmd`` from the repository root with its output in ``log``."""
    os.makedirs(osp.dirname(log), exist_ok=True)
    with open(log, 'a') as f:
        f.write(f'$ {" ".join(cmd)}\n')
        f.flush()
        code = subprocess.call(cmd, cwd=REPO, stdout=f, stderr=subprocess.STDOUT,
                               env=dict(os.environ, PYTHONUNBUFFERED='1'))
    if code:
        raise RuntimeError(f'compare_models.py: {" ".join(cmd[1:3])} failed (exit code {code}); '
                           f'its log: {log}. Run the same command again to resume.')


def _last_checkpoint(work_dir: str) -> Optional[str]:
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        return None
    with open(marker) as f:
        path = f.read().strip()
    for p in (path, osp.join(REPO, path), osp.join(work_dir, osp.basename(path))):
        if p and osp.isfile(p):
            return p
    return None


def _loadavg() -> str:
    try:
        with open('/proc/loadavg') as f:
            return ' '.join(f.read().split()[:3])
    except OSError:
        return 'n/a'


def train(config: str, run_dir: str, options: List[str]) -> dict:
    """Train ``config`` (or reuse its finished run); return the train record."""
    work = osp.join(run_dir, 'train')
    record_path = osp.join(run_dir, 'train.json')
    ckpt = _last_checkpoint(work)
    if osp.isfile(record_path) and ckpt:
        with open(record_path) as f:
            return dict(json.load(f), reused=True)
    cmd = [sys.executable, 'tools/train.py', config, '--work-dir', work]
    if ckpt:
        cmd.append('--resume')
    if options:
        cmd += ['--cfg-options'] + options
    load0, t0 = _loadavg(), time.time()
    _run(cmd, osp.join(run_dir, 'train.log'))
    ckpt = _last_checkpoint(work)
    if ckpt is None:
        raise RuntimeError(f'compare_models.py: training {config} wrote no checkpoint in {work}')
    record = dict(wall_s=round(time.time() - t0, 1), loadavg_start=load0,
                  loadavg_end=_loadavg(), resumed=len(cmd) > 4 and '--resume' in cmd,
                  checkpoint=osp.relpath(ckpt, REPO))
    atomic_write_text(record_path, json.dumps(record, indent=2))
    return dict(record, reused=False)


def evaluate(config: str, ckpt: str, run_dir: str, split: str, options: List[str]) -> dict:
    """``tools/test.py`` on the labelled ``split``; returns labels and scores sorted by file."""
    out = osp.join(run_dir, 'eval')
    scores_file = osp.join(out, 'scores.jsonl')
    cmd = [sys.executable, 'tools/test.py', config, ckpt, '--work-dir', out, '--cfg-options',
           'test_dataloader.dataset.type=AVDeepfake1MDataset',
           f'test_dataloader.dataset.subset={split}', 'test_dataloader.dataset.test_mode=True',
           f'test_evaluator.scores_file={scores_file}'] + options
    _run(cmd, osp.join(run_dir, 'eval.log'))
    rows = [json.loads(line) for line in open(scores_file) if line.strip()]
    rows.sort(key=lambda r: r['file'])
    with open(osp.join(out, 'metrics.json')) as f:
        metrics = json.load(f)
    return dict(files=[r['file'] for r in rows], labels=[int(r['label']) for r in rows],
                scores=[float(r['score']) for r in rows], metrics=metrics)


def inference_ms(cfg: Config, data_root: Optional[str], repeats: int = 10) -> float:
    """Median forward time of one clip (batch 1, pipeline-shaped inputs), milliseconds."""
    register_all_modules()
    model = MODELS.build(cfg.model).eval()
    inputs = dict(pipeline_inputs(cfg, model, 1, data_root))
    times = []
    with torch.no_grad():
        for i in range(repeats + 2):
            t0 = time.perf_counter()
            model(inputs, None, mode='tensor')
            if i >= 2:
                times.append(time.perf_counter() - t0)
    return 1000.0 * statistics.median(times)


def measure(config: str, run_dir: str, args: argparse.Namespace) -> dict:
    """Train, evaluate and count one config; the record of its table row."""
    cfg = Config.fromfile(config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    options = _options(args)
    trained = train(config, run_dir, options)
    ckpt = trained['checkpoint']
    ckpt = ckpt if osp.isabs(ckpt) else osp.join(REPO, ckpt)
    ev = evaluate(config, ckpt, run_dir, args.split, options)
    ci = bootstrap_video_metrics(ev['labels'], ev['scores'], num_resamples=args.resamples,
                                 seed=args.seed)
    flops = compute_flops(cfg, data_root=args.data_root)
    return dict(
        name=config_name(config), config=osp.relpath(osp.abspath(config), REPO),
        modality=modality_of(cfg), model=cfg.model.get('type'),
        backbone=(cfg.model.get('backbone') or {}).get('type'),
        metrics=ci, num_videos=len(ev['labels']), num_fake=int(sum(ev['labels'])),
        params=int(flops['params']), gmacs=flops['flops_per_sample'] / 1e9,
        train_wall_s=trained['wall_s'], train_loadavg=[trained['loadavg_start'],
                                                        trained['loadavg_end']],
        infer_ms=inference_ms(cfg, args.data_root), infer_loadavg=_loadavg(),
        checkpoint=trained['checkpoint'], files=ev['files'], labels=ev['labels'],
        scores=ev['scores'])


def _load1(loads: List[str]) -> str:
    """1-minute load averages at the start and the end of a run, ``'a -> b'``."""
    return ' -> '.join(x.split()[0] for x in loads)


def _cell(m: Dict[str, float], digits: int) -> str:
    return f'{m["value"]:.{digits}f} [{m["low"]:.{digits}f}, {m["high"]:.{digits}f}]'


def av_vs_single(records: List[dict], resamples: int, seed: int) -> Optional[dict]:
    """Best audio+video model vs best single-modality model (by AUC), paired bootstrap."""
    av = [r for r in records if r['modality'] == 'audio+video']
    single = [r for r in records if r['modality'] != 'audio+video']
    if not av or not single:
        return None
    a = max(av, key=lambda r: r['metrics']['auc']['value'])
    b = max(single, key=lambda r: r['metrics']['auc']['value'])
    if a['files'] != b['files']:
        raise ValueError(f'compare_models.py: {a["name"]} and {b["name"]} were evaluated on '
                         f'different videos; cannot pair them')
    diff = paired_bootstrap_difference(a['labels'], a['scores'], b['scores'], 'auc',
                                       num_resamples=resamples, seed=seed)
    return dict(audio_video=a['name'], single=b['name'], single_modality=b['modality'],
                auc_difference=diff)


def render(records: List[dict], comparison: Optional[dict], args: argparse.Namespace) -> str:
    lines = [
        f'Evaluated on `{args.split}` ({records[0]["num_videos"]} videos, '
        f'{records[0]["num_fake"]} fake); 95% percentile-bootstrap intervals over videos '
        f'({args.resamples} resamples, seed {args.seed}). GMACs: multiply-adds per clip '
        '(fvcore, attention included). Inference: forward pass of one clip, median of 10, '
        'decoding excluded. Train: wall time of tools/train.py.',
        '',
        '| model | modality | ACC (%) | WA-F1 (%) | UAR (%) | AUC | params (M) | GMACs | '
        'train (s) | load avg (train) | inference (ms) |',
        '|---|---|---|---|---|---|---|---|---|---|---|',
    ]
    for r in records:
        m = r['metrics']
        lines.append(
            f'| `{r["name"]}` | {r["modality"]} | {_cell(m["acc"], 1)} | {_cell(m["wa_f1"], 1)}'
            f' | {_cell(m["uar"], 1)} | {_cell(m["auc"], 3)} | {r["params"] / 1e6:.3f} | '
            f'{r["gmacs"]:.3f} | {r["train_wall_s"]:.0f} | {_load1(r["train_loadavg"])} | '
            f'{r["infer_ms"]:.1f} |')
    if comparison:
        d = comparison['auc_difference']
        verdict = ('beats' if d['low'] > 0 else 'does not beat' if d['high'] < 0 else
                   'is not distinguishable from')
        lines += ['', f'Best audio+video model `{comparison["audio_video"]}` {verdict} the best '
                  f'single-modality model `{comparison["single"]}` '
                  f'({comparison["single_modality"]}): AUC difference {d["value"]:+.3f}, '
                  f'95% interval [{d["low"]:+.3f}, '
                  f'{d["high"]:+.3f}] (paired bootstrap over the same videos; the audio+video '
                  f'model is not better in {100 * d["p_not_better"]:.1f}% of the resamples).']
    return '\n'.join(lines) + '\n'


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    names = [config_name(c) for c in args.configs]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise SystemExit(f'compare_models.py: configs with the same file name {sorted(dupes)}')
    for c in args.configs:
        if not osp.isfile(c):
            raise SystemExit(f'compare_models.py: no config file {c}')
    os.makedirs(args.work_dir, exist_ok=True)
    records = []
    for i, (config, name) in enumerate(zip(args.configs, names), 1):
        run_dir = osp.join(args.work_dir, name)
        record_path = osp.join(run_dir, 'record.json')
        t0 = time.time()
        if osp.isfile(record_path) and name not in args.force:
            with open(record_path) as f:
                record = json.load(f)
            status = 'reused'
        else:
            if name in args.force:
                for stale in ('record.json', 'train.json'):
                    if osp.isfile(osp.join(run_dir, stale)):
                        os.remove(osp.join(run_dir, stale))
            record = measure(config, run_dir, args)
            atomic_write_text(record_path, json.dumps(record, indent=2))
            status = 'done'
        records.append(record)
        m = record['metrics']
        print(f'[{i}/{len(args.configs)}] {name} ({record["modality"]}): {status} in '
              f'{time.time() - t0:.0f} s; AUC {_cell(m["auc"], 3)}, ACC {m["acc"]["value"]:.1f}, '
              f'train {record["train_wall_s"]:.0f} s, {record["params"] / 1e6:.3f} M params, '
              f'{record["gmacs"]:.3f} GMACs, {record["infer_ms"]:.1f} ms/clip; load '
              f'{_loadavg()}', flush=True)
        comparison = av_vs_single(records, args.resamples, args.seed)
        atomic_write_text(osp.join(args.work_dir, 'results.md'),
                          render(records, comparison, args))
        summary = dict(split=args.split, resamples=args.resamples, seed=args.seed,
                       metrics=list(METRICS), comparison=comparison,
                       rows=[{k: v for k, v in r.items()
                              if k not in ('files', 'labels', 'scores')} for r in records])
        atomic_write_text(osp.join(args.work_dir, 'results.json'),
                          json.dumps(summary, indent=2))
    print(f'table: {osp.join(args.work_dir, "results.md")}')
    return 0


if __name__ == '__main__':
    np.seterr(all='ignore')
    sys.exit(main())
