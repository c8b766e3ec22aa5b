"""Score videos: ``python tools/infer.py CONFIG CHECKPOINT PATH [PATH ...] [options]``.

PATH may be video files or folders (searched recursively). One JSON line per video is written
to ``--out`` (default: standard output): ``file``, ``score`` (fake probability), ``label``
(1 = fake at ``--threshold``), ``has_audio`` and ``error`` (null, or why the file could not be
scored; the run goes on). ``--submission FILE`` also writes ``file;score`` lines for the videos
that were scored. The checkpoint is read with ``torch.load(weights_only=True)``.
``--quantize int8`` runs the linear layers in int8 (dynamic quantization, CPU only; see
docs/inference.md).
"""

import os

# Idle OpenMP threads sleep instead of spinning: on a few shared CPU cores (dataloader
# workers + the main process) spinning threads slow training several-fold. Must be set
# before torch is imported; an explicit value in the environment wins.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import argparse
import json
import os.path as osp
import sys

import torch
from tqdm import tqdm

from holaframe.apis import collect_videos, inference_detector, init_detector
from holaframe.apis.inference import VIDEO_EXTENSIONS
from holaframe.evaluation.submission import write_submission


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Score videos with a holaframe detector')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file (loaded with weights_only=True)')
    parser.add_argument('paths', nargs='+', help='video files and/or folders')
    parser.add_argument('--out', help='JSON lines output file (default: standard output)')
    parser.add_argument('--submission', help='also write "<file>;<score>" lines to this file')
    parser.add_argument('--threshold', type=float, default=0.5,
                        help='label = 1 (fake) when score >= threshold (default 0.5)')
    parser.add_argument('--face-crop', action='store_true',
                        help='crop around the largest face first (in-the-wild videos)')
    parser.add_argument('--device',
                        help='cuda if available, else cpu; always cpu with --quantize int8')
    parser.add_argument('--quantize', choices=['int8'],
                        help='int8: dynamically quantize the linear layers to int8 (CPU only; '
                        'faster, scores differ slightly from fp32)')
    parser.add_argument('--extensions', nargs='+', default=list(VIDEO_EXTENSIONS),
                        help='video file endings looked for inside folders')
    parser.add_argument('--relative-to',
                        help='write file names relative to this folder (default: as found)')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    args = parser.parse_args(argv)
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() and not args.quantize else 'cpu'
    elif args.quantize and torch.device(args.device).type != 'cpu':
        parser.error(f'--quantize {args.quantize} runs on the CPU only, not on --device '
                     f'{args.device}')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    files = collect_videos(args.paths, args.extensions)
    if not files:
        print(f'No video found in {args.paths}', file=sys.stderr)
        return 1
    model = init_detector(args.config, args.checkpoint, device=args.device,
                          quantize=args.quantize)

    out = open(args.out, 'w') if args.out else sys.stdout
    scored, failed = [], 0
    try:
        for path in tqdm(files, desc='scoring', unit='video', disable=args.no_progress,
                         file=sys.stderr):
            entry = inference_detector(model, path, threshold=args.threshold,
                                       face_crop=args.face_crop)
            if args.relative_to:
                entry['file'] = osp.relpath(path, args.relative_to)
            out.write(json.dumps(entry) + '\n')
            out.flush()
            if entry['error'] is None:
                scored.append((entry['file'], entry['score']))
            else:
                failed += 1
    finally:
        if out is not sys.stdout:
            out.close()
    if args.submission:
        write_submission(args.submission, scored)
    print(f'{len(scored)} video(s) scored, {failed} failed'
          + (f'; results in {args.out}' if args.out else ''), file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
