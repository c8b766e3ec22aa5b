"""Toy-scale Table-3 attribution of the HOLA fusion path on the token synchrony task.

Trains the detector of ``holaframe.testing.av_sync_tokens`` (neck -> ICI -> LGCF -> pyramid
refiner -> ClsHead, clip labels only) with each component removed in turn, and without the
relative time-position bias of the attention, for several seeds, and prints a Markdown table of
the held-out AUC after a fixed number of steps.

Example::

    OMP_NUM_THREADS=1 python tools/analysis_tools/av_sync_attribution.py --seeds 0 1 2 \\
        --out work_dirs/av_sync_attribution.json
"""

import argparse
import json
import os
import os.path as osp
import time

import numpy as np
import torch

from holaframe.testing.av_sync_tokens import av_sync_hola_cfg, train_hola_on_av_sync_tokens

VARIANTS = {
    'full (ICI + LGCF + refiner)': dict(),
    'no ICI': dict(interaction=False),
    'no LGCF': dict(fusion=False),
    'no refiner (mean pooling)': dict(refiner=False),
    'full, position-blind attention': dict(rel_pos_distance=None),
    'full, sin-cos positions added to the neck outputs instead': dict(rel_pos_distance=None,
                                                                      neck_pos_embed=True),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--steps', type=int, default=400, help='optimiser steps per run')
    parser.add_argument('--eval-every', type=int, default=100)
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS),
                        help=f'subset of {list(VARIANTS)}')
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--out', help='write all results as JSON here')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    unknown = [v for v in args.variants if v not in VARIANTS]
    if unknown:
        raise SystemExit(f'av_sync_attribution.py: unknown variants {unknown}; '
                         f'choose from {list(VARIANTS)}')
    results = {}
    for name in args.variants:
        runs = []
        for seed in args.seeds:
            r = train_hola_on_av_sync_tokens(av_sync_hola_cfg(**VARIANTS[name]),
                                             steps=args.steps, seed=seed,
                                             eval_every=args.eval_every)
            r.pop('model')
            runs.append(r)
            print(f'{name} seed {seed}: AUC {r["auc"]:.4f} curve '
                  f'{[(s, round(a, 3)) for s, a in r["curve"]]} ({r["seconds"]:.1f} s)',
                  flush=True)
        results[name] = runs
    print(f'\nload average {os.getloadavg()[0]:.2f}, {time.strftime("%Y-%m-%d %H:%M")}')
    steps = [s for s, _ in results[args.variants[0]][0]['curve']]
    print('\n| variant | params | ' + ' | '.join(f'AUC @ {s} steps' for s in steps)
          + ' | replace | shift |')
    print('|---|---|' + '---|' * (len(steps) + 2))
    for name, runs in results.items():
        cells = []
        for i in range(len(steps)):
            aucs = [r['curve'][i][1] for r in runs]
            cells.append(f'{np.mean(aucs):.3f} ({min(aucs):.3f}-{max(aucs):.3f})')
        kinds = [np.mean([r['auc_per_kind'][k] for r in runs]) for k in ('replace', 'shift')]
        print(f'| {name} | {runs[0]["params"] / 1e3:.1f} k | ' + ' | '.join(cells)
              + f' | {kinds[0]:.3f} | {kinds[1]:.3f} |')
    print(f'\n(mean over seeds {args.seeds}, min-max in brackets; held-out AUC of 1024 clips)')
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(dict(args=vars(args), results=results), f, indent=1)


if __name__ == '__main__':
    main()
