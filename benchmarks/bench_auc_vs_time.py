"""Validation AUC versus training time of a config (wall seconds and CPU seconds).

Trains ``CONFIG`` with MMEngine's Runner (as ``tools/train.py`` does) and, after every
validation, records the wall time since start, the CPU seconds used by the whole process tree
(main process plus dataloader workers, ``measure.ProcessTreeCpu``, psutil) and the validation
metrics. Used for the
synthetic-data measurements in ``docs/hola_model.md``::

    OMP_NUM_THREADS=1 python benchmarks/bench_auc_vs_time.py \
        configs/hola/hola-dense_tiny_1xb8-10min_synthetic.py --work-dir work_dirs/dense

Results are printed (lines starting with ``AUC_VS_TIME``) and written as JSON (default
``benchmarks/results/auc_vs_time_<config name>.json``). On a shared machine the wall time
depends on the load; the CPU seconds much less so.
"""

import argparse
import json
import os
import os.path as osp
import time

import measure
from mmengine.hooks import Hook

from holaframe.engine.runner import build_runner, load_config
from holaframe.registry import HOOKS

_START = time.time()


@HOOKS.register_module(force=True)
class AucVsTimeHook(Hook):
    """Record (wall s, CPU s, metrics) after every validation and write them as JSON.

    Args:
        out_file (str): JSON output path.
    """

    priority = 'VERY_LOW'

    def __init__(self, out_file: str) -> None:
        self.out_file = out_file
        self.clock = measure.ProcessTreeCpu()
        self.rows = []

    def after_val_epoch(self, runner, metrics=None) -> None:
        row = dict(epoch=runner.epoch, iter=runner.iter, wall_s=time.time() - _START,
                   cpu_s=self.clock())
        row.update({k: float(v) for k, v in (metrics or {}).items()
                    if isinstance(v, (int, float))})
        self.rows.append(row)
        print('AUC_VS_TIME', json.dumps(row), flush=True)
        os.makedirs(osp.dirname(osp.abspath(self.out_file)), exist_ok=True)
        with open(self.out_file, 'w') as f:
            json.dump(self.rows, f, indent=1)


def main(argv=None) -> None:
    """Entry point."""
    parser = argparse.ArgumentParser(description='Validation AUC versus training time.')
    parser.add_argument('config')
    parser.add_argument('--work-dir', default=None)
    parser.add_argument('--out', default=None, help='JSON output file')
    args = parser.parse_args(argv)
    name = osp.splitext(osp.basename(args.config))[0]
    out = args.out or osp.join('benchmarks', 'results', f'auc_vs_time_{name}.json')
    cfg = load_config(args.config, None, 'none', args.work_dir)
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(type='AucVsTimeHook', out_file=out)]
    runner = build_runner(cfg)
    runner.train()
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
