"""Decode a dataset once into a decoded-clip cache for training at scale.

Example::

    python tools/data/pack_clips.py configs/hola/hola-dense_tiny_1xb8-10min_synthetic.py \
        data/packed/hola-dense_tiny/train --split train --workers 8

Runs the cached steps of the split's pipeline (``DecordInit``, ``DecordDecode`` with the
frame-wise ``MouthCrop`` / ``VideoResize`` / ``VideoCenterCrop`` after it, ``AudioDecode``;
every frame for a random sampler, the sampled frames and the audio features for a deterministic
one; see ``docs/data.md``) on every clip of ``<split>_dataloader.dataset`` and writes
``OUT_DIR/shards/shard-NNNNNN.{bin,json}``, ``OUT_DIR/index.json`` and ``OUT_DIR/errors.txt``.
Read it with ``dict(type='PackedClipDataset', pack_dir=OUT_DIR, pipeline=<the same pipeline>)``.
When the split's dataset already is a ``PackedClipDataset``, its ``source`` dataset is packed.

Resumable: rerun the same command after an interruption; complete shards are kept. Clips that
cannot be decoded are listed in ``errors.txt`` (``file<TAB>reason``) and the run goes on.

Exit status: 0 when every clip was packed, 3 when some could not be (the pack is complete
without them), 1 on an error.
"""

import os

# Idle OpenMP threads sleep instead of spinning (shared CPU cores); before torch is imported.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import argparse  # noqa: E402
import copy  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from typing import Dict, List, Tuple  # noqa: E402

from mmengine.config import Config, DictAction  # noqa: E402

from holaframe.datasets.clip_packing import pack_dataset  # noqa: E402
from holaframe.engine.runner import load_config  # noqa: E402
from holaframe.registry import DATASETS  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('out_dir', help='pack folder (created; a rerun resumes it)')
    parser.add_argument('--split', default='train',
                        help='the dataloader whose dataset and pipeline are packed: train, val '
                        'or test (<split>_dataloader)')
    parser.add_argument('--workers', type=int, default=1,
                        help='processes decoding in parallel (1: in this process)')
    parser.add_argument('--shard-size', type=int, default=128,
                        help='clips per shard (at least one shard per training rank)')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, as in tools/train.py')
    return parser.parse_args(argv)


def source_and_pipeline(cfg: Config, split: str, config_path: str) -> Tuple[Dict, List[dict]]:
    """The dataset config to pack and its pipeline, from ``<split>_dataloader``."""
    loader = cfg.get(f'{split}_dataloader')
    if not loader or not loader.get('dataset'):
        raise SystemExit(f'pack_clips.py: {config_path} has no {split}_dataloader.dataset')
    dataset = copy.deepcopy(loader['dataset'])
    pipeline = list(dataset.get('pipeline') or [])
    if str(dataset.get('type', '')).split('.')[-1] == 'PackedClipDataset':
        if not dataset.get('source'):
            raise SystemExit(f'pack_clips.py: {config_path}: the {split} dataset is a '
                             'PackedClipDataset without `source` (the video dataset to pack)')
        dataset = copy.deepcopy(dataset['source'])
    if 'dataset' in dataset or 'datasets' in dataset:
        raise SystemExit(f'pack_clips.py: {config_path}: the {split} dataset wraps other '
                         f'datasets ({dataset.get("type")}); pack each video dataset on its own')
    dataset.pop('pipeline', None)
    return dataset, pipeline


def main(argv=None) -> int:
    """Entry point; returns the exit status."""
    args = parse_args(argv)
    if args.workers < 1 or args.shard_size < 1:
        raise SystemExit('pack_clips.py: --workers and --shard-size must be >= 1')
    try:
        cfg = load_config(args.config, args.cfg_options)
    except FileNotFoundError as e:
        raise SystemExit(f'pack_clips.py: {e}') from None
    source, pipeline = source_and_pipeline(cfg, args.split, args.config)
    # Bad metadata entries are recorded (errors.txt), not fatal.
    try:
        dataset = DATASETS.build(dict(copy.deepcopy(source), pipeline=[], skip_bad_samples=True,
                                      bad_samples_file=os.devnull))
    except (FileNotFoundError, ValueError, KeyError) as e:
        raise SystemExit(f'pack_clips.py: cannot build the {args.split} dataset of '
                         f'{args.config}: {e}') from None
    start = time.time()
    print(f'pack_clips.py: {len(dataset)} clips of the {args.split} set of {args.config} into '
          f'{args.out_dir} ({args.workers} worker(s), {args.shard_size} clips per shard)',
          flush=True)
    custom = cfg.get('custom_imports') or {}
    try:
        summary = pack_dataset(dataset, pipeline, args.out_dir, shard_size=args.shard_size,
                               workers=args.workers, progress=not args.no_progress,
                               source=source, split=args.split,
                               import_modules=list(custom.get('imports', [])))
    except (ValueError, RuntimeError, TypeError, KeyError) as e:
        raise SystemExit(f'pack_clips.py: {e}') from None
    per_clip = summary['bytes'] / max(summary['packed'], 1)
    print(f'pack_clips.py: packed {summary["packed"]} of {summary["clips"]} clips in '
          f'{summary["shards"]} shards ({summary["shards_kept"]} kept from an earlier run), '
          f'{summary["bytes"] / 2**30:.2f} GiB ({per_clip / 2**20:.2f} MiB per clip), '
          f'{time.time() - start:.1f} s; index {summary["index"]}')
    bad = summary['failed'] + summary['load_failures']
    if bad:
        print(f'pack_clips.py: {summary["failed"]} clip(s) could not be packed and '
              f'{summary["load_failures"]} metadata entr(ies) were dropped; see '
              f'{summary["errors"]}', file=sys.stderr)
        return 3
    return 0


if __name__ == '__main__':
    sys.exit(main())
