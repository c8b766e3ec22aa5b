"""Train a model from a config: ``python tools/train.py CONFIG [options]``.

Honours ``runner_type`` in the config (``Runner`` by default, ``FlexibleRunner`` for DeepSpeed
strategies). Runs on CPU-only machines: the distributed backend defaults to NCCL when CUDA is
available and to gloo otherwise.
"""

import os

# Idle OpenMP threads sleep instead of spinning: on a few shared CPU cores (dataloader
# workers + the main process) spinning threads slow training several-fold. Must be set
# before torch is imported; an explicit value in the environment wins.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import argparse

import torch
from mmengine.config import DictAction

from holaframe.engine.runner import build_runner, close_dist_env, load_config
from holaframe.utils.checkpoint import allow_mmengine_checkpoints, set_unsafe_load
from holaframe.utils.pretrained import check_pretrained_checkpoints, drop_pretrained_inits


def parse_args():
    parser = argparse.ArgumentParser(description='Train a holaframe model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and checkpoints')
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from the given checkpoint; without a path, from the latest checkpoint in '
        'the work dir')
    parser.add_argument('--amp', action='store_true', help='enable automatic mixed precision')
    parser.add_argument(
        '--auto-scale-lr', action='store_true', help='scale the lr by the actual batch size')
    parser.add_argument('--seed', type=int, default=None, help='random seed')
    parser.add_argument(
        '--unsafe-load',
        action='store_true',
        help='read checkpoints (--resume, load_from, init_cfg) with a full pickle load, which '
        'can run code: only for files you trust (default: weights only)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, key=value pairs, e.g. train_cfg.max_epochs=2')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    set_unsafe_load(args.unsafe_load)
    cfg = load_config(args.config, args.cfg_options, args.launcher, args.work_dir)

    if args.amp:
        if not torch.cuda.is_available():
            raise SystemExit('--amp needs a GPU (MMEngine AmpOptimWrapper); train in fp32 on CPU')
        if cfg.get('runner_type', 'Runner') == 'FlexibleRunner':
            raise ValueError('--amp is for the plain Runner; set fp16/bf16 in the DeepSpeed '
                             'strategy config instead')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        cfg.resume = True
        cfg.load_from = args.resume
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise KeyError('--auto-scale-lr needs `auto_scale_lr.base_batch_size` in the config')
        cfg.auto_scale_lr.enable = True
    if args.seed is not None:
        cfg.setdefault('randomness', {})
        cfg.randomness.seed = args.seed
    if cfg.get('resume') or cfg.get('load_from'):
        # Every weight comes from that checkpoint: the pre-trained initialisation is not needed.
        drop_pretrained_inits(cfg)
    else:
        # A missing pre-trained checkpoint stops the run now, before any data is read.
        try:
            check_pretrained_checkpoints(cfg)
        except FileNotFoundError as exc:
            raise SystemExit(f'tools/train.py: {exc}') from None

    runner = build_runner(cfg)
    # torch >= 2.6 loads with weights_only=True by default: allow-list exactly what MMEngine
    # training checkpoints contain, so --resume works without an unrestricted pickle load.
    with allow_mmengine_checkpoints():
        runner.train()
    close_dist_env()


if __name__ == '__main__':
    main()
