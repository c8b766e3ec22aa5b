#!/usr/bin/env python
"""The HOLA recipe in one command: AV-MAE pre-training -> hand-off -> fine-tuning ->
pseudo-label rounds -> test.

Usage::

    python tools/recipes/hola.py --scale nano              # synthetic data, < 20 min on 2 cores
    python tools/recipes/hola.py --scale base --gpus 8 \\
        --data-root data/AV-Deepfake1M-PlusPlus --pretrain-root data/pretrain_videos

Stages, each in its own folder under ``--work-dir`` (default ``work_dirs/recipe_hola_<scale>``):

``data``      nano: generate the synthetic AV-Deepfake1M++ set if ``--data-root`` has none;
              base: check that the dataset is there.
``pretrain``  AV-MAE with dual masking (nano: ``configs/avmae/avmae_vit-nano-128px_1xb8-8e_
              synthetic.py``; base: ``configs/hola/pretrain_avmae.py``, DeepSpeed ZeRO-2).
``handoff``   the last pre-training checkpoint as one plain weights file (a ZeRO directory is
              consolidated with ``zero2holaframe.py``), checked to carry the encoders' token
              grids (``pos_grid``), so fine-tuning maps the positions.
``finetune``  the paper's fine-tuning config with ``pretrained=<handoff file>``.
``pseudo``    the pseudo-label rounds config with ``load_from=<best fine-tuned checkpoint>``.
``test``      ``tools/test.py`` on val (``metrics.json``, ROC and score plots) and the testA
              submission (``testA_submission.txt``).

A stage that finished (its ``stage.json`` exists and names existing outputs) is skipped unless
``--force`` names it (or ``--force`` alone: every stage); forcing a stage reruns every later one.
A training stage that stopped half-way resumes from its ``last_checkpoint``. When a stage fails
the recipe stops, names the stage and its log (``<stage>/recipe_stage.log``); running the same
command again resumes there. ``--override STAGE:KEY=VALUE`` passes a ``--cfg-options`` entry to
one stage's config (e.g. ``finetune:train_cfg.max_epochs=2``).
"""

import argparse
import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import time
from typing import Dict, List, Optional, Sequence

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STAGES = ('data', 'pretrain', 'handoff', 'finetune', 'pseudo', 'test')
SCALES = {
    'nano': dict(
        pretrain='configs/avmae/avmae_vit-nano-128px_1xb8-8e_synthetic.py',
        finetune='configs/hola/hola_vit-nano_1xb8-10min_synthetic.py',
        pseudo='configs/hola/hola-pseudo-rounds-2r_vit-nano_1xb8-4e_synthetic.py',
        data_root='data/synthetic_avdf',
        synthetic=True),
    'base': dict(
        pretrain='configs/hola/pretrain_avmae.py',
        finetune='configs/hola/hola_vit-base_8xb8-30e_avdf1mpp.py',
        pseudo='configs/hola/hola-pseudo-rounds-5r_vit-base_8xb8-25e_avdf1mpp.py',
        data_root='data/AV-Deepfake1M-PlusPlus',
        pretrain_root='data/pretrain_videos',
        synthetic=False),
}


class StageFailed(RuntimeError):
    """A stage's command failed; the message names the stage and its log."""


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='HOLA end to end: AV-MAE pre-training, hand-off, fine-tuning, '
        'pseudo-label rounds and test, each stage resumable')
    parser.add_argument('--scale', choices=sorted(SCALES), default='nano')
    parser.add_argument('--data-root', help='AV-Deepfake1M++-layout dataset (default: per scale)')
    parser.add_argument('--pretrain-root',
                        help='unlabeled videos for pre-training (default: base: '
                        'data/pretrain_videos; nano: the train clips of --data-root)')
    parser.add_argument('--work-dir', help='default: work_dirs/recipe_hola_<scale>')
    parser.add_argument('--gpus', type=int, default=1,
                        help='processes per training stage (> 1: tools/dist_train.sh)')
    parser.add_argument('--force', nargs='*', choices=STAGES, metavar='STAGE',
                        help='rerun these stages (and every later one); alone: all stages')
    parser.add_argument('--stop-after', choices=STAGES, help='stop after this stage')
    parser.add_argument('--override', nargs='+', default=[], metavar='STAGE:KEY=VALUE',
                        help="extra --cfg-options for one stage's config")
    return parser.parse_args(argv)


# --------------------------------------------------------------------------- helpers
def _overrides(items: Sequence[str]) -> Dict[str, List[str]]:
    out: Dict[str, List[str]] = {}
    for item in items:
        stage, sep, option = item.partition(':')
        if not sep or stage not in STAGES or '=' not in option:
            raise SystemExit(f'tools/recipes/hola.py: --override takes STAGE:KEY=VALUE with '
                             f'STAGE one of {STAGES}; got {item!r}')
        out.setdefault(stage, []).append(option)
    return out


def _run(cmd: List[str], log: str, stage: str) -> None:
    """Run ``cmd`` from the repository root, output to the terminal and to ``log``."""
    os.makedirs(osp.dirname(log), exist_ok=True)
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    with open(log, 'a') as f:
        f.write(f'$ {" ".join(cmd)}\n')
        f.flush()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True, env=env)
        for line in proc.stdout:
            f.write(line)
            sys.stdout.write(line)
        code = proc.wait()
    if code:
        raise StageFailed(f'stage {stage!r} failed (exit code {code}); its log: {log}\n'
                          f'Run the same command again to resume from this stage.')


def _train_cmd(config: str, work_dir: str, options: List[str], gpus: int) -> List[str]:
    if gpus > 1:
        cmd = ['bash', 'tools/dist_train.sh', config, str(gpus), '--work-dir', work_dir]
    else:
        cmd = [sys.executable, 'tools/train.py', config, '--work-dir', work_dir]
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        cmd.append('--resume')  # the stage stopped half-way: continue where it was
    if options:
        cmd += ['--cfg-options'] + options
    return cmd


def _last_checkpoint(work_dir: str) -> str:
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        path = f.read().strip()
    if not osp.exists(path):
        path = osp.join(work_dir, osp.basename(path))
    if not osp.exists(path):
        raise FileNotFoundError(f'tools/recipes/hola.py: {work_dir} names no existing checkpoint')
    return path


def _best_checkpoint(work_dir: str) -> str:
    best = sorted(glob.glob(osp.join(work_dir, 'best_*.pth')), key=osp.getmtime)
    return best[-1] if best else _last_checkpoint(work_dir)


def _scalars(work_dir: str) -> List[dict]:
    """Every logged record of the runs in ``work_dir`` (MMEngine's vis_data/scalars.json)."""
    rows = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'scalars.json')),
                       key=osp.getmtime):
        with open(path) as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows


def _best(rows: List[dict], key: str) -> Optional[float]:
    values = [r[key] for r in rows if key in r]
    return max(values) if values else None


def _data_options(stage: str, data_root: str) -> List[str]:
    opts = [f'{k}.dataset.data_root={data_root}'
            for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')]
    if stage == 'pseudo':
        opts += [f'custom_hooks.0.unlabeled_dataloader.dataset.data_root={data_root}',
                 f'custom_hooks.0.train_dataset.data_root={data_root}']
    return opts


# --------------------------------------------------------------------------- stages
class Recipe:
    """The stage graph of one scale; each stage returns the outputs the next one consumes."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.scale = SCALES[args.scale]
        self.scale_name = args.scale
        self.data_root = args.data_root or self.scale['data_root']
        self.pretrain_root = (args.pretrain_root or self.scale.get('pretrain_root')
                              or self.data_root)
        self.work_dir = args.work_dir or osp.join('work_dirs', f'recipe_hola_{args.scale}')
        self.gpus = args.gpus
        self.overrides = _overrides(args.override)
        self.outputs: Dict[str, dict] = {}

    def dir(self, stage: str) -> str:
        return osp.join(self.work_dir, stage)

    def log(self, stage: str) -> str:
        return osp.join(self.dir(stage), 'recipe_stage.log')

    def stage_data(self) -> dict:
        root = self.data_root
        if osp.isfile(osp.join(root, 'testA_files.txt')):
            return dict(data_root=root)
        if not self.scale['synthetic']:
            raise StageFailed(f'stage \'data\': {root} is not an AV-Deepfake1M++ download '
                              f'(no testA_files.txt); see docs/data.md, or pass --data-root')
        _run([sys.executable, 'tools/data/make_synthetic_avdf.py', root], self.log('data'),
             'data')
        return dict(data_root=root)

    def stage_pretrain(self) -> dict:
        work = self.dir('pretrain')
        options = [f'train_dataloader.dataset.data_root={self.pretrain_root}']
        if not self.scale['synthetic']:
            list_file = osp.join(self.pretrain_root, 'train_list.txt')
            if not osp.isfile(list_file):
                raise StageFailed(f'stage \'pretrain\': no {list_file} (one video path per '
                                  f'line); see docs/pretraining.md')
        _run(_train_cmd(self.scale['pretrain'], work, options + self.overrides.get(
            'pretrain', []), self.gpus), self.log('pretrain'), 'pretrain')
        rows = _scalars(work)
        losses = [r['loss'] for r in rows if 'loss' in r]
        return dict(checkpoint=_last_checkpoint(work),
                    first_loss=losses[0] if losses else None,
                    last_loss=losses[-1] if losses else None)

    def stage_handoff(self) -> dict:
        src = self.outputs['pretrain']['checkpoint']
        dst = osp.join(self.dir('handoff'), 'avmae_pretrained.pth')
        os.makedirs(self.dir('handoff'), exist_ok=True)
        if osp.isdir(src):  # a DeepSpeed ZeRO checkpoint directory: consolidate it first
            _run([sys.executable, 'tools/model_converters/zero2holaframe.py', src, dst],
                 self.log('handoff'), 'handoff')
            src_file = dst
        else:
            src_file = src
        from holaframe.utils.atomic_io import atomic_torch_save
        from holaframe.utils.checkpoint import load_checkpoint_safely, unwrap_state_dict
        ckpt = load_checkpoint_safely(src_file)
        state = unwrap_state_dict(ckpt, keys=('state_dict', 'model', 'module'))
        grids = {k.split('.')[0]: state[k].tolist() for k in state if k.endswith('.pos_grid')}
        missing = {'video_encoder', 'audio_encoder'} - set(grids)
        if missing:
            raise StageFailed(f'stage \'handoff\': {src} records no token grid for '
                              f'{sorted(missing)}; its positions could not be mapped')
        meta = {k: v for k, v in ckpt.get('meta', {}).items()
                if isinstance(v, (str, int, float, bool))}
        # The weights only (no optimizer or message hub), with the pre-training grids in meta.
        atomic_torch_save(dict(state_dict=state, meta=dict(meta, source=src,
                                                           token_grids=grids)), dst)
        return dict(checkpoint=dst, source=src, token_grids=grids)

    def stage_finetune(self) -> dict:
        work = self.dir('finetune')
        options = [f'pretrained={self.outputs["handoff"]["checkpoint"]}'] + _data_options(
            'finetune', self.data_root)
        _run(_train_cmd(self.scale['finetune'], work, options + self.overrides.get(
            'finetune', []), self.gpus), self.log('finetune'), 'finetune')
        return dict(checkpoint=_best_checkpoint(work),
                    best_val_auc=_best(_scalars(work), 'video/auc'))

    def stage_pseudo(self) -> dict:
        work = self.dir('pseudo')
        options = [f'load_from={self.outputs["finetune"]["checkpoint"]}'] + _data_options(
            'pseudo', self.data_root)
        _run(_train_cmd(self.scale['pseudo'], work, options + self.overrides.get(
            'pseudo', []), self.gpus), self.log('pseudo'), 'pseudo')
        rounds = sorted(glob.glob(osp.join(work, 'pseudo_labels', 'round_*.jsonl')))
        counts = {osp.basename(p)[:-6]: sum(1 for _ in open(p)) for p in rounds}
        return dict(checkpoint=_best_checkpoint(work), pseudo_labels=counts,
                    best_val_auc=_best(_scalars(work), 'video/auc'))

    def stage_test(self) -> dict:
        work, ckpt = self.dir('test'), self.outputs['pseudo']['checkpoint']
        config = self.scale['pseudo']
        data = _data_options('test', self.data_root)
        extra = self.overrides.get('test', [])
        val = osp.join(work, 'val')
        _run([sys.executable, 'tools/test.py', config, ckpt, '--work-dir', val,
              '--show-dir', osp.join(val, 'plots'), '--cfg-options'] + data + [
                  'test_dataloader.dataset.type=AVDeepfake1MDataset',
                  'test_dataloader.dataset.subset=val', 'test_dataloader.dataset.test_mode=True'
              ] + extra, self.log('test'), 'test')
        submission = osp.join(work, 'testA_submission.txt')
        _run([sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
              osp.join(work, 'testA'), '--submission', submission, '--cfg-options'] + data +
             extra, self.log('test'), 'test')
        with open(osp.join(val, 'metrics.json')) as f:
            metrics = json.load(f)
        return dict(checkpoint=ckpt, metrics=osp.join(val, 'metrics.json'),
                    val_auc=metrics.get('video/auc'), val_acc=metrics.get('video/acc'),
                    roc=osp.join(val, 'plots', 'roc.png'), submission=submission)

    # ----------------------------------------------------------------------- driver
    def _done(self, stage: str) -> Optional[dict]:
        path = osp.join(self.dir(stage), 'stage.json')
        if not osp.isfile(path):
            return None
        with open(path) as f:
            record = json.load(f)
        paths = [v for k, v in record['outputs'].items() if k in ('checkpoint', 'submission')]
        return record if all(osp.exists(p) for p in paths) else None

    def run(self, force: Optional[Sequence[str]], stop_after: Optional[str]) -> List[dict]:
        first_forced = None
        if force is not None:
            first_forced = min((STAGES.index(s) for s in force), default=0)
        summary = []
        for i, stage in enumerate(STAGES):
            record = None if first_forced is not None and i >= first_forced else self._done(
                stage)
            if record is None and first_forced is not None and i >= first_forced:
                if stage != 'data' and osp.isdir(self.dir(stage)):
                    shutil.rmtree(self.dir(stage))
            status = 'skipped (done)' if record else 'ran'
            print(f'[recipe {self.scale_name}] stage {i + 1}/{len(STAGES)} {stage}: '
                  f'{"already done, skipped" if record else "running"}', flush=True)
            if record is None:
                start = time.time()
                outputs = getattr(self, f'stage_{stage}')()
                record = dict(stage=stage, outputs=outputs, wall_s=round(time.time() - start, 1))
                os.makedirs(self.dir(stage), exist_ok=True)
                from holaframe.utils.atomic_io import atomic_open
                with atomic_open(osp.join(self.dir(stage), 'stage.json')) as f:
                    json.dump(record, f, indent=2)
            self.outputs[stage] = record['outputs']
            summary.append(dict(record, status=status))
            print(f'[recipe {self.scale_name}] stage {stage} {status} in {record["wall_s"]} s: '
                  f'{json.dumps(record["outputs"])}', flush=True)
            if stage == stop_after:
                break
        return summary


def _table(summary: List[dict]) -> str:
    lines = ['| stage | status | wall (s) | result |', '|---|---|---|---|']
    keys = ('data_root', 'last_loss', 'token_grids', 'best_val_auc', 'pseudo_labels', 'val_auc',
            'val_acc', 'submission')
    def fmt(value):
        return f'{value:.4g}' if isinstance(value, float) else value

    for row in summary:
        out = row['outputs']
        result = '; '.join(f'{k} {fmt(out[k])}' for k in keys if out.get(k) is not None)
        lines.append(f'| {row["stage"]} | {row["status"]} | {row["wall_s"]} | {result} |')
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    recipe = Recipe(args)
    try:
        summary = recipe.run(args.force, args.stop_after)
    except StageFailed as exc:
        print(f'[recipe {args.scale}] {exc}', file=sys.stderr)
        return 1
    table = _table(summary)
    from holaframe.utils.atomic_io import atomic_open
    with atomic_open(osp.join(recipe.work_dir, 'summary.md')) as f:
        f.write(table + '\n')
    print(f'\n[recipe {args.scale}] summary ({osp.join(recipe.work_dir, "summary.md")}):\n'
          f'{table}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
