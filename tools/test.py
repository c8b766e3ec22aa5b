"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]``.

Runs the config's ``test_dataloader`` / ``test_evaluator`` and writes the metrics as JSON to
``<work_dir>/metrics.json``; for labeled subsets also ``<work_dir>/roc.png`` and per-clip
``<work_dir>/scores.jsonl``. ``--submission FILE`` writes the challenge submission (``<relative
path>;<score>`` in the subset's file-list order), for labeled and unlabeled subsets; a FILE
ending in ``.json`` gets the Track 2 (temporal localisation) JSON of the predicted segments
instead. ``--out FILE`` writes the per-clip predictions (file, score, labels, load error) as
JSON, or as pickle when FILE ends in ``.pkl``; ``--dump FILE`` writes every predicted field
(MMAction2's ``--dump``, for offline evaluation), likewise. ``--leading-silence-audit`` measures
the leading-silence leak and re-scores the clips with their leading silence trimmed (metrics
prefixed ``trimmed/``); see docs/evaluation.md. ``--show-dir DIR`` writes the plots:
``roc.png``, ``score_histograms.png`` (per manipulation type) and per-clip frame-score timelines
(``timelines/``) for models that predict frame scores.

CHECKPOINT is a file, a DeepSpeed checkpoint folder or an ``http(s)://`` URL, read weights-only
(``--unsafe-load`` for a trusted file that needs more). A clip that cannot be read does not stop
the run: it is listed in ``<work_dir>/errors.jsonl`` (``--error-report``), gets
``--fallback-score`` in the submission and is left out of the metrics (``num_unreadable``).
Every output file is written atomically. Exit status: 0 when every clip was scored, 3 when some
could not be (all outputs are still complete), 1 on an error.
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
import sys

from mmengine.config import DictAction

from holaframe.apis import evaluator_setup
from holaframe.engine.runner import build_runner, close_dist_env, load_config
from holaframe.utils.atomic_io import atomic_open
from holaframe.utils.checkpoint import allow_mmengine_checkpoints, is_url, set_unsafe_load


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
        '--submission',
        help='write the challenge submission file: Track 1 <file>;<score> lines, or the Track 2 '
        'JSON {"<file>": [[confidence, start, end], ...]} when FILE ends in .json')
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
    parser.add_argument(
        '--out',
        help='write the per-clip predictions (file, score, labels, load error) to this file: '
        'JSON, or pickle if it ends in .pkl')
    parser.add_argument(
        '--dump',
        help='write every predicted field per clip (offline evaluation) to this file: JSON, or '
        'pickle if it ends in .pkl')
    parser.add_argument(
        '--error-report',
        help='JSON lines of the clips that could not be read (default: <work_dir>/errors.jsonl)')
    parser.add_argument(
        '--fallback-score',
        type=float,
        default=0.5,
        help='submission score of a clip that could not be read (default 0.5, uninformative)')
    parser.add_argument(
        '--unsafe-load',
        action='store_true',
        help='read the checkpoint with a full pickle load, which can run code: only for files '
        'you trust (default: weights only)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main() -> int:
    args = parse_args()
    set_unsafe_load(args.unsafe_load)
    # A file, a DeepSpeed ZeRO checkpoint directory, or a URL (downloaded into the cache).
    if not is_url(args.checkpoint) and not osp.exists(args.checkpoint):
        raise FileNotFoundError(f'Checkpoint not found: {args.checkpoint}')
    if not 0.0 <= args.fallback_score <= 1.0:
        raise SystemExit(f'tools/test.py: --fallback-score must be in [0, 1], got '
                         f'{args.fallback_score}')
    cfg = load_config(args.config, args.cfg_options, args.launcher, args.work_dir)
    cfg.load_from = args.checkpoint
    cfg.resume = False

    evaluator_setup.add_test_outputs(
        cfg, cfg.work_dir, args.submission, args.leading_silence_audit, out=args.out,
        dump=args.dump, error_report=args.error_report, fallback_score=args.fallback_score)
    if args.show_dir:
        evaluator_setup.add_show_dir(cfg, args.show_dir, args.max_timelines)

    runner = build_runner(cfg)
    with allow_mmengine_checkpoints():  # weights_only=True load of MMEngine checkpoints
        metrics = dict(runner.test() or {})
        if args.leading_silence_audit:
            audit_runner = build_runner(
                evaluator_setup.leading_silence_audit_cfg(cfg, cfg.work_dir))
            metrics.update(audit_runner.test() or {})

    failed = int(metrics.get('errors/num_failed', 0) or 0)
    if runner.rank == 0:
        out = osp.join(cfg.work_dir, 'metrics.json')
        with atomic_open(out) as f:
            json.dump({k: _jsonable(v) for k, v in (metrics or {}).items()}, f, indent=2)
        print(f'metrics written to {out}')
        if failed:
            report = args.error_report or osp.join(cfg.work_dir, 'errors.jsonl')
            print(f'{failed} clip(s) could not be scored: see {report}', file=sys.stderr)
    close_dist_env()
    return 3 if failed else 0


def _jsonable(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


if __name__ == '__main__':
    sys.exit(main())
