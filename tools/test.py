"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]``.

Runs the config's ``test_dataloader`` / ``test_evaluator`` and writes the metrics as JSON to
``<work_dir>/metrics.json``; for labeled subsets also ``<work_dir>/roc.png`` and per-clip
``<work_dir>/scores.jsonl``. ``--submission FILE`` writes the challenge submission
(``<relative path>;<score>`` in the subset's file-list order), for labeled and unlabeled
subsets. ``--leading-silence-audit`` measures the leading-silence leak and re-scores the clips
with their leading silence trimmed (metrics prefixed ``trimmed/``); see docs/evaluation.md.
``--show-dir DIR`` writes the plots: ``roc.png``, ``score_histograms.png`` (per manipulation
type) and per-clip frame-score timelines (``timelines/``) for models that predict frame scores.
"""

import os

# Idle OpenMP threads sleep instead of spinning: on a few shared CPU cores (dataloader
# workers + the main process) spinning threads slow training several-fold. Must be set
# before torch is imported; an explicit value in the environment wins.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

# Plots are written to files, never shown: no display is needed.
import matplotlib  # noqa: E402

matplotlib.use('Agg')

import argparse
import json
import os.path as osp

from mmengine.config import DictAction

from holaframe.apis import evaluator_setup
from holaframe.engine.runner import build_runner, load_config
from holaframe.utils.checkpoint import allow_mmengine_checkpoints


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and evaluate) a holaframe model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir', help='the directory to save the metrics JSON and other outputs')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--submission', help='write the challenge submission file (<file>;<score> lines)')
    parser.add_argument(
        '--leading-silence-audit',
        action='store_true',
        help='also score the clips with their leading silence trimmed (labeled subsets)')
    parser.add_argument(
        '--show-dir',
        help='write the plots (ROC, score histograms per manipulation type, frame-score '
        'timelines) to this directory')
    parser.add_argument(
        '--max-timelines',
        type=int,
        default=16,
        help='most per-clip frame-score timelines written with --show-dir')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    if not osp.exists(args.checkpoint):  # a file, or a DeepSpeed ZeRO checkpoint directory
        raise FileNotFoundError(f'Checkpoint not found: {args.checkpoint}')
    cfg = load_config(args.config, args.cfg_options, args.launcher, args.work_dir)
    cfg.load_from = args.checkpoint
    cfg.resume = False

    evaluator_setup.add_test_outputs(cfg, cfg.work_dir, args.submission,
                                     args.leading_silence_audit)
    if args.show_dir:
        evaluator_setup.add_show_dir(cfg, args.show_dir, args.max_timelines)

    runner = build_runner(cfg)
    with allow_mmengine_checkpoints():  # weights_only=True load of MMEngine checkpoints
        metrics = dict(runner.test() or {})
        if args.leading_silence_audit:
            audit_runner = build_runner(
                evaluator_setup.leading_silence_audit_cfg(cfg, cfg.work_dir))
            metrics.update(audit_runner.test() or {})

    if runner.rank == 0:
        os.makedirs(cfg.work_dir, exist_ok=True)
        out = osp.join(cfg.work_dir, 'metrics.json')
        with open(out, 'w') as f:
            json.dump({k: _jsonable(v) for k, v in (metrics or {}).items()}, f, indent=2)
        print(f'metrics written to {out}')


def _jsonable(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


if __name__ == '__main__':
    main()
