"""Score videos: ``python tools/infer.py CONFIG CHECKPOINT PATH [PATH ...] [options]``.

PATH may be video files or folders (searched recursively); ``--file-list LIST`` scores the files
named in LIST (one path per line, relative to ``--relative-to``, default the list's folder) in
that order. One JSON line per video is written to ``--out`` (default: standard output):
``file``, ``score`` (fake probability), ``label`` (1 = fake at ``--threshold``), ``has_audio``
and ``error`` (null, or why the file could not be scored; the run goes on).

``--submission FILE`` writes one ``file;score`` line for every listed video: a video that could
not be scored gets ``--fallback-score`` (default 0.5, the uninformative probability), so the
official scorer sees every file. Every failure is listed in the error report (JSON lines
``file``, ``error``; ``--error-report``, default ``<submission or out>.errors.jsonl``). Output
files are written to a temporary name and renamed when complete: a crash never leaves a partial
file. Exit status: 0 when every video was scored, 3 when some could not be (outputs complete,
failures in the error report), 1 when nothing could be done.

The checkpoint (a file or an ``http(s)://`` URL) is read with ``torch.load(weights_only=True)``
(``--unsafe-load`` for a trusted file that needs more). ``--quantize int8`` runs the linear layers
in int8 (dynamic quantization, CPU only; see docs/inference.md).

``--localize`` (a config with a localisation head, ``configs/localization/``) adds to each
JSON line the fake segments found in the whole video (``segments``: ``[confidence, start_s,
end_s]`` rows, best first) and the per-frame score timeline (``frame_times``, ``frame_scores``),
and draws one PNG timeline per video into ``--timeline-dir``; ``--metadata`` (a
``*_metadata.json`` list) adds the annotated ``fake_segments`` to both (docs/localization.md).
With ``--backend onnxruntime`` the graph must be exported from such a config (it then has a
``frame_offsets`` output); a model or graph that gives no segments stops the run (status 1).

``--backend onnxruntime`` runs an exported graph instead (``tools/deployment/export_onnx.py``):
CHECKPOINT is then the ``.onnx`` file; the data pipeline is the config's, as with PyTorch. The
next clip is decoded in a background thread while the model scores the current one
(``--prefetch``, default 1; 0 turns it off); see docs/deployment.md.
"""

import os

# Idle OpenMP threads sleep instead of spinning: on a few shared CPU cores (dataloader
# workers + the main process) spinning threads slow training several-fold. Must be set
# before torch is imported; an explicit value in the environment wins.
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import argparse
import contextlib
import json
import os.path as osp
import sys

import torch
from tqdm import tqdm

from holaframe.apis import collect_videos
from holaframe.apis.backends import BACKENDS, build_scoring_model, iter_inference
from holaframe.apis.inference import VIDEO_EXTENSIONS
from holaframe.evaluation.submission import write_submission
from holaframe.utils.atomic_io import atomic_open
from holaframe.utils.checkpoint import set_unsafe_load

#: Exit status when the run finished but some videos could not be scored.
EXIT_SOME_FAILED = 3


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Score videos with a holaframe detector')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint',
                        help='checkpoint file or http(s) URL (loaded with weights_only=True)')
    parser.add_argument('paths', nargs='*', help='video files and/or folders')
    parser.add_argument('--file-list',
                        help='text file with one video path per line (relative to '
                        '--relative-to, default: the list\'s folder), scored in this order')
    parser.add_argument('--out', help='JSON lines output file (default: standard output)')
    parser.add_argument('--submission',
                        help='also write "<file>;<score>" lines, one per listed video')
    parser.add_argument('--fallback-score', type=float, default=0.5,
                        help='submission score of a video that could not be scored (default '
                        '0.5, the uninformative probability)')
    parser.add_argument('--error-report',
                        help='JSON lines of the videos that failed (default: '
                        '<submission or out>.errors.jsonl)')
    parser.add_argument('--threshold', type=float, default=0.5,
                        help='label = 1 (fake) when score >= threshold (default 0.5)')
    parser.add_argument('--face-crop', action='store_true',
                        help='crop around the largest face first (in-the-wild videos)')
    parser.add_argument('--device',
                        help='cuda if available, else cpu; always cpu with --quantize int8')
    parser.add_argument('--quantize', choices=['int8'],
                        help='int8: dynamically quantize the linear layers to int8 (CPU only; '
                        'faster, scores differ slightly from fp32)')
    parser.add_argument('--backend', choices=BACKENDS, default='pytorch',
                        help='pytorch (default) or onnxruntime: then CHECKPOINT is the .onnx '
                        'file from tools/deployment/export_onnx.py (CPU)')
    parser.add_argument('--prefetch', type=int, default=1,
                        help='clips decoded ahead in a thread while the model runs (default 1; '
                        '0: none)')
    parser.add_argument('--extensions', nargs='+', default=list(VIDEO_EXTENSIONS),
                        help='video file endings looked for inside folders')
    parser.add_argument('--relative-to',
                        help='write file names relative to this folder (default: as found)')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='read the checkpoint with a full pickle load, which can run code: '
                        'only for files you trust (default: weights only)')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    parser.add_argument('--localize', action='store_true',
                        help='also write the fake segments found and the per-frame score '
                        'timeline of each whole video, and a PNG timeline per video (needs a '
                        'config with a loc_head)')
    parser.add_argument('--timeline-dir',
                        help='folder of the PNG timelines of --localize (default: '
                        '<out>_timelines, or timelines without --out)')
    parser.add_argument('--metadata',
                        help='with --localize: a *_metadata.json list whose fake_segments are '
                        'drawn in the timelines and written as fake_segments')
    args = parser.parse_args(argv)
    if not args.paths and not args.file_list:
        parser.error('give video files/folders or --file-list')
    if not 0.0 <= args.fallback_score <= 1.0:
        parser.error(f'--fallback-score must be in [0, 1], got {args.fallback_score}')
    if args.prefetch < 0:
        parser.error(f'--prefetch must be >= 0, got {args.prefetch}')
    if args.backend == 'onnxruntime':
        if args.quantize:
            parser.error('--quantize applies to --backend pytorch; an ONNX graph is quantized '
                         'when exported (tools/deployment/export_onnx.py --int8)')
        if args.device is not None and torch.device(args.device).type != 'cpu':
            parser.error(f'--backend onnxruntime runs on the CPU, not on --device {args.device}')
        args.device = 'cpu'
    if args.device is None:
        args.device = 'cuda' if torch.cuda.is_available() and not args.quantize else 'cpu'
    elif args.quantize and torch.device(args.device).type != 'cpu':
        parser.error(f'--quantize {args.quantize} runs on the CPU only, not on --device '
                     f'{args.device}')
    return args


def listed_videos(args):
    """``(path to read, name to report)`` per video, in order."""
    pairs = []
    if args.file_list:
        base = args.relative_to or osp.dirname(osp.abspath(args.file_list))
        with open(args.file_list, encoding='utf-8', errors='surrogateescape') as f:
            names = [line.strip() for line in f if line.strip()]
        pairs += [(osp.join(base, name), name) for name in names]
    for path in collect_videos(args.paths, args.extensions):
        name = osp.relpath(path, args.relative_to) if args.relative_to else path
        pairs.append((path, name))
    return pairs


def error_report_path(args):
    if args.error_report:
        return args.error_report
    target = args.submission or args.out
    return None if target is None else osp.splitext(target)[0] + '.errors.jsonl'


def timeline_name(name: str) -> str:
    """PNG file name of a video's timeline: its reported path with separators replaced."""
    stem = osp.splitext(name.replace('\\', '/').lstrip('./'))[0]
    return stem.replace('/', '__') + '.png'


def load_model(args):
    """The model of ``--backend``; None (the error printed) when an ONNX graph cannot be read."""
    try:
        return build_scoring_model(args.config, args.checkpoint, backend=args.backend,
                                   device=args.device, quantize=args.quantize)
    except (FileNotFoundError, ValueError) as exc:
        if args.backend != 'onnxruntime':
            raise
        print(f'infer.py: error: {exc}', file=sys.stderr)
        return None


def localize_main(args, videos) -> int:
    """``--localize``: segments, frame timeline (JSON lines) and a PNG timeline per video."""
    from holaframe.apis.localization import (
        check_localizes,
        localize_detector,
        match_metadata,
        read_segment_metadata,
    )
    from holaframe.visualization import localization_timeline_figure, save_figure

    if args.metadata and not osp.isfile(args.metadata):
        print(f'infer.py: error: {args.metadata}: metadata file not found', file=sys.stderr)
        return 1
    gt = read_segment_metadata(args.metadata) if args.metadata else None
    timeline_dir = args.timeline_dir or (
        osp.splitext(args.out)[0] + '_timelines' if args.out else 'timelines')
    model = load_model(args)
    if model is None:
        return 1
    try:
        check_localizes(model)
    except ValueError as exc:
        print(f'infer.py: error: --localize: {exc}', file=sys.stderr)
        return 1
    entries = []
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(atomic_open(args.out)) if args.out else sys.stdout
        for path, name in tqdm(videos, desc='localising', unit='video',
                               disable=args.no_progress, file=sys.stderr):
            entry = localize_detector(model, path, threshold=args.threshold,
                                      face_crop=args.face_crop)
            entry['file'] = name
            segs = None if gt is None else match_metadata(name, gt)
            if gt is not None:
                entry['fake_segments'] = segs
            if entry['error'] is None:
                png = osp.join(timeline_dir, timeline_name(name))
                fig = localization_timeline_figure(
                    entry['frame_scores'], entry['frame_times'], entry['segments'], segs,
                    duration=entry['duration'], threshold=args.threshold,
                    title=f'{name}  (video score {entry["score"]:.3f})')
                entry['timeline'] = save_figure(fig, png)
            entries.append(entry)
            out.write(json.dumps(entry) + '\n')
            out.flush()
    failed = [e for e in entries if e['error'] is not None]
    report = error_report_path(args)
    if report:
        with atomic_open(report) as f:
            for e in failed:
                f.write(json.dumps(dict(file=e['file'], error=e['error'])) + '\n')
    if args.submission:
        write_submission(args.submission, [
            (e['file'], args.fallback_score if e['error'] is not None else e['score'])
            for e in entries])
    print(f'{len(entries) - len(failed)} video(s) localised, {len(failed)} failed'
          + (f' (listed in {report})' if failed and report else '')
          + f'; timelines in {timeline_dir}'
          + (f'; results in {args.out}' if args.out else ''), file=sys.stderr)
    return EXIT_SOME_FAILED if failed else 0


def main(argv=None) -> int:
    args = parse_args(argv)
    set_unsafe_load(args.unsafe_load)
    videos = listed_videos(args)
    if not videos:
        print(f'No video found in {args.paths or args.file_list}', file=sys.stderr)
        return 1
    if args.localize:
        return localize_main(args, videos)
    model = load_model(args)
    if model is None:
        return 1

    entries = []
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(atomic_open(args.out)) if args.out else sys.stdout
        scored = iter_inference(model, [path for path, _ in videos], threshold=args.threshold,
                                face_crop=args.face_crop, prefetch=args.prefetch)
        for (_, name), entry in tqdm(zip(videos, scored), total=len(videos), desc='scoring',
                                     unit='video', disable=args.no_progress, file=sys.stderr):
            entry['file'] = name
            entries.append(entry)
            out.write(json.dumps(entry) + '\n')
            out.flush()
    failed = [e for e in entries if e['error'] is not None]
    report = error_report_path(args)
    if report:
        with atomic_open(report) as f:
            for e in failed:
                f.write(json.dumps(dict(file=e['file'], error=e['error'])) + '\n')
    if args.submission:
        write_submission(args.submission, [
            (e['file'], args.fallback_score if e['error'] is not None else e['score'])
            for e in entries])
    print(f'{len(entries) - len(failed)} video(s) scored, {len(failed)} failed'
          + (f' (listed in {report}; submission score {args.fallback_score})'
             if failed and report else '')
          + (f'; results in {args.out}' if args.out else ''), file=sys.stderr)
    return EXIT_SOME_FAILED if failed else 0


if __name__ == '__main__':
    sys.exit(main())
