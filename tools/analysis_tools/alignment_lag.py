#!/usr/bin/env python
"""Audio-visual lag profile of an alignment model on the real clips of a dataset.

Usage::

    python tools/analysis_tools/alignment_lag.py CONFIG CHECKPOINT ROOT \
        [--split val] [--max-clips 60] [--out FILE] [--unsafe-load]

``CONFIG`` / ``CHECKPOINT``: an ``AVAlignmentDetector`` and its weights; ``ROOT``: an
AV-Deepfake1M++-format dataset. Each real clip of ``ROOT/<split>`` (no ``fake_segments``) goes
through the config's test pipeline; the model's unit vectors ``z^v_t``, ``z^a_t`` give the
clip's mean agreement ``mean_t <z^v_t, z^a_{t+k}>`` at every offset ``k = -K..K`` (``K`` the
model's ``max_offset``). Printed and written as JSON (default ``<ROOT>_<split>_lag.json`` in
the current folder): the mean profile over the clips, how many clips agree best at each
offset, and the share whose best offset is within one frame of 0.

What it tells: on its own training source a model peaks sharply at 0. On another source a
peak at another offset is a lag the two sources do not share (``sync_search`` handles it); a
flat profile means the model does not follow that source's mouth or sound at all, which no
scoring can repair.
"""

import argparse
import json
import os.path as osp
import sys
from typing import Dict, List, Optional

import numpy as np
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='AVAlignmentDetector config')
    parser.add_argument('checkpoint', help='its checkpoint')
    parser.add_argument('root', help='AV-Deepfake1M++-format dataset root')
    parser.add_argument('--split', default='val', help='labelled subset (default: val)')
    parser.add_argument('--max-clips', type=int, default=60, help='real clips read at most')
    parser.add_argument('--out', help='JSON file (default: <root name>_<split>_lag.json)')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='full pickle load of the checkpoint (trusted files only)')
    return parser.parse_args(argv)


def clip_lag_profile(model, inputs: Dict[str, torch.Tensor]) -> np.ndarray:
    """``(2K + 1,)``: the clip's mean agreement at each offset ``-K..K`` (batch of one)."""
    from holaframe.models.detectors.av_alignment_detector import lag_profile, offset_logits
    with torch.no_grad():
        z_v, z_a = model.embed(inputs)
        return lag_profile(offset_logits(z_v, z_a, model.max_offset, 1.0))[0].numpy()


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point."""
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.dataset import Compose

    from holaframe.registry import MODELS, TRANSFORMS
    from holaframe.utils import register_all_modules
    from holaframe.utils.checkpoint import load_checkpoint
    register_all_modules()
    cfg = Config.fromfile(args.config)
    if cfg.model.get('type') != 'AVAlignmentDetector':
        raise SystemExit(f'alignment_lag.py: {args.config} builds a {cfg.model.get("type")}; '
                         f'the lag profile needs an AVAlignmentDetector')
    meta_file = osp.join(args.root, f'{args.split}_metadata.json')
    if not osp.isfile(meta_file):
        raise SystemExit(f'alignment_lag.py: no {meta_file} (a labelled split of an '
                         f'AV-Deepfake1M++-format root)')
    model = MODELS.build(cfg.model).eval()
    state = load_checkpoint(args.checkpoint, unsafe=args.unsafe_load)
    model.load_state_dict(state.get('state_dict', state))
    pipeline = Compose([TRANSFORMS.build(t) for t in cfg.test_dataloader.dataset.pipeline])
    with open(meta_file) as f:
        reals = [m for m in json.load(f) if not m.get('fake_segments')][:args.max_clips]
    if not reals:
        raise SystemExit(f'alignment_lag.py: {meta_file} lists no real clip')
    k = model.max_offset
    profiles = []
    for i, meta in enumerate(reals):
        results = pipeline(dict(filename=osp.join(args.root, args.split, meta['file']),
                                file=meta['file'], gt_label=0, sample_idx=i))
        data = model.data_preprocessor(dict(inputs=[results['inputs']],
                                            data_samples=[results['data_samples']]), False)
        profiles.append(clip_lag_profile(model, data['inputs']))
    profiles = np.stack(profiles)
    offsets = list(range(-k, k + 1))
    best = profiles.argmax(1) - k
    report = dict(config=args.config, checkpoint=args.checkpoint, root=args.root,
                  split=args.split, num_clips=len(reals), offsets=offsets,
                  mean_agreement=[round(float(v), 4) for v in profiles.mean(0)],
                  best_offset_counts={str(o): int((best == o).sum()) for o in offsets},
                  share_best_within_1=round(float(np.mean(np.abs(best) <= 1)), 4))
    out = args.out or f'{osp.basename(osp.normpath(args.root))}_{args.split}_lag.json'
    with open(out, 'w') as f:
        json.dump(report, f, indent=2)
    print(f'{len(reals)} real clips of {args.root}/{args.split}')
    print('offset (frames, audio later > 0): ' + ' '.join(f'{o:+5d}' for o in offsets))
    print('mean agreement:                   ' + ' '.join(
        f'{v:+5.2f}' for v in report['mean_agreement']))
    print('clips agreeing best there:        ' + ' '.join(
        f'{report["best_offset_counts"][str(o)]:5d}' for o in offsets))
    print(f'best offset within 1 frame of 0: {100 * report["share_best_within_1"]:.0f}% of '
          f'clips; wrote {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
