"""Can HOLA's fusion path learn from a trained detector's neck features? A frozen-feature probe.

Takes a trained dense HOLA checkpoint (a detector with a variable-length neck, e.g.
``configs/hola/hola-dense_tiny_1xb8-10min_synthetic.py``), computes the neck outputs
``F_v, F_a`` of every train and val clip once (whole clips through the config's val pipeline,
model in eval mode), then trains a *fresh* fusion path (ICI -> LGCF -> pyramid refiner ->
ClsHead, as in the config) on 64-frame windows of those frozen features, with the window's
label (fake iff it holds fake frames; segment labels, as the dense config uses), and reports
the val AUC of whole clips during training. Variants remove a component or the relative
time-position bias of the attention, so one sees whether the path can use features in which
the synchrony cue is known to be present, and which part needs what.

The audio features of a training window are normalised over the whole clip here, not over the
window as in training; the comparison between variants is what matters.

Example::

    python tools/analysis_tools/probe_fusion_path.py \\
        configs/hola/hola-dense_tiny_1xb8-10min_synthetic.py work_dirs/demo/train/best.pth \\
        --data-root data/synthetic_avdf --variants full position-blind
"""

import argparse
import copy
import json
import os
import time
from typing import Dict, List

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config

from holaframe.apis import init_detector
from holaframe.evaluation.functional import rank_auc
from holaframe.registry import DATASETS, MODELS

VARIANTS = {
    'full': {},
    'no-ici': dict(interaction=None),
    'no-lgcf': dict(fusion=None),
    'no-refiner': dict(refiner=None),
    'position-blind': dict(rel_pos_distance=None),
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--data-root', help='override the datasets data_root')
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS),
                        choices=list(VARIANTS))
    parser.add_argument('--steps', type=int, default=750)
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument('--lr', type=float, default=2e-3)
    parser.add_argument('--window', type=int, default=64, help='training window in frames')
    parser.add_argument('--eval-every', type=int, default=125)
    parser.add_argument('--seeds', type=int, nargs='+', default=[0])
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--out', help='write the results as JSON here')
    return parser.parse_args()


@torch.no_grad()
def neck_features(model: nn.Module, dataset_cfg: dict) -> Dict[str, object]:
    """Neck outputs of every clip of a dataset (whole clips, the config's val pipeline)."""
    dataset = DATASETS.build(dataset_cfg)
    f_v, f_a, frame_labels, labels, valid, kinds = [], [], [], [], [], []
    for i in range(len(dataset)):
        item = dataset[i]
        sample = item['data_samples']
        data = model.data_preprocessor(dict(inputs=[item['inputs']], data_samples=[sample]),
                                       False)
        v, a = model.extract_feat(data['inputs'])['aligned']
        f_v.append(v[0])
        f_a.append(a[0])
        if 'frame_labels' not in sample:
            raise KeyError(f'probe_fusion_path.py: clip {i} of {dataset_cfg["subset"]} has no '
                           'frame_labels; the val pipeline needs FrameFakeMask')
        frame_labels.append(torch.as_tensor(sample.frame_labels))
        labels.append(int(sample.gt_label))
        valid.append(int(sample.metainfo.get('num_valid_frames', v.shape[1])))
        kinds.append(sample.metainfo.get('modify_type', ''))
    return dict(video=torch.stack(f_v), audio=torch.stack(f_a),
                frame_labels=torch.stack(frame_labels), labels=np.array(labels),
                valid=np.array(valid), kinds=np.array(kinds))


def build_path(model_cfg: dict, variant: dict) -> nn.ModuleDict:
    """A fresh fusion path from the detector config, with the variant's changes."""
    parts = {}
    for key in ('interaction', 'fusion', 'refiner', 'head'):
        cfg = copy.deepcopy(model_cfg.get(key))
        if key in variant:
            cfg = variant[key]
        if cfg is not None and key in ('interaction', 'fusion') \
                and 'rel_pos_distance' in variant:
            cfg['rel_pos_distance'] = variant['rel_pos_distance']
        if cfg is not None:
            parts[key] = MODELS.build(cfg)
    return nn.ModuleDict(parts)


def path_forward(path: nn.ModuleDict, f_v: torch.Tensor, f_a: torch.Tensor) -> torch.Tensor:
    """The detector's stages 4-7 (see HOLADetector.extract_feat)."""
    if 'interaction' in path:
        f_v, f_a = path['interaction'](f_v, f_a)
    fused = path['fusion'](f_v, f_a) if 'fusion' in path else torch.cat([f_v, f_a], dim=1)
    clip = path['refiner'](fused) if 'refiner' in path else fused.mean(dim=1)
    return path['head'](clip)


def fake_runs(labels: np.ndarray) -> List[tuple]:
    edges = np.flatnonzero(np.diff(np.concatenate([[0], labels, [0]])))
    return list(zip(edges[::2], edges[1::2]))


def train_probe(path: nn.ModuleDict, train: dict, val: dict, args: argparse.Namespace,
                seed: int) -> List[list]:
    """Train on random windows (half centred on a fake segment); val AUC curve."""
    rng = np.random.default_rng(seed)
    opt = torch.optim.AdamW(path.parameters(), lr=args.lr, weight_decay=0.02)
    warmup = max(1, args.steps // 15)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda i: min(1.0, (i + 1) / warmup) * 0.5 * (1 + np.cos(np.pi * i / args.steps)))
    k, curve = args.window, []
    num = len(train['labels'])
    for step in range(args.steps):
        path.train()
        v, a, y = [], [], []
        for i in rng.integers(0, num, args.batch_size):
            n = int(train['valid'][i])
            start = int(rng.integers(0, max(1, n - k + 1)))
            runs = fake_runs(train['frame_labels'][i][:n].numpy())
            if runs and rng.random() < 0.5:
                s, e = runs[rng.integers(len(runs))]
                start = int(np.clip(round((s + e) / 2 - k / 2 + rng.uniform(-k / 4, k / 4)),
                                    0, max(0, n - k)))
            v.append(train['video'][i, start:start + k])
            a.append(train['audio'][i, start:start + k])
            y.append(int(train['frame_labels'][i, start:start + k].max() > 0))
        loss = nn.functional.cross_entropy(path_forward(path, torch.stack(v), torch.stack(a)),
                                           torch.tensor(y))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(path.parameters(), 5.0)
        opt.step()
        sched.step()
        if (step + 1) % args.eval_every == 0 or step + 1 == args.steps:
            path.eval()
            with torch.no_grad():
                scores = path_forward(path, val['video'], val['audio']).softmax(-1)[:, 1]
            curve.append([step + 1, rank_auc(val['labels'], scores.numpy())])
    return curve


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    model = init_detector(cfg, args.checkpoint)
    if model.neck is None or model.neck.out_length is not None:
        raise SystemExit('probe_fusion_path.py: needs a detector with a variable-length neck '
                         '(in_length_* = out_length = None), e.g. the dense configs')
    start = time.time()
    features = {}
    for subset in ('train', 'val'):
        ds = copy.deepcopy(cfg.val_dataloader.dataset.to_dict())
        ds.update(subset=subset, test_mode=True)
        if args.data_root:
            ds['data_root'] = args.data_root
        features[subset] = neck_features(model, ds)
    print(f'neck features of {len(features["train"]["labels"])} train and '
          f'{len(features["val"]["labels"])} val clips in {time.time() - start:.0f} s',
          flush=True)
    model_cfg = cfg.model.to_dict()
    results: Dict[str, List[list]] = {}
    for name in args.variants:
        for seed in args.seeds:
            torch.manual_seed(seed)
            path = build_path(model_cfg, VARIANTS[name])
            t0 = time.time()
            curve = train_probe(path, features['train'], features['val'], args, seed)
            results.setdefault(name, []).append(curve)
            print(f'{name} seed {seed}: ' + ', '.join(f'{s}: {a:.3f}' for s, a in curve)
                  + f' ({time.time() - t0:.0f} s)', flush=True)
    steps = [s for s, _ in results[args.variants[0]][0]]
    print(f'\nload average {os.getloadavg()[0]:.2f}')
    print('| variant | ' + ' | '.join(f'val AUC @ {s} steps' for s in steps) + ' |')
    print('|---|' + '---|' * len(steps))
    for name, curves in results.items():
        cells = [np.mean([c[i][1] for c in curves]) for i in range(len(steps))]
        print(f'| {name} | ' + ' | '.join(f'{x:.3f}' for x in cells) + ' |')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(args=vars(args), results=results), f, indent=1)


if __name__ == '__main__':
    main()
