"""Generate a synthetic mini AV-Deepfake1M++ dataset (same layout and metadata fields).

Example::

    python tools/data/make_synthetic_avdf.py data/synthetic_avdf --train 480 --val 120 \
        --testA 60 --testB 60 --seed 0

See ``docs/data.md`` for the design of the clips and their fakes. ``--generator photo`` writes
the same layout from a second, independent generator (talking photographs, source-filter
speech, tool-like lip-sync and TTS artefacts, one real clip to three fakes, 3-20 s clips; needs
scikit-image); see ``docs/generalisation.md``::

    python tools/data/make_synthetic_avdf.py data/synthetic_avdf_photo --generator photo \
        --workers 2
"""

import argparse
import time

from holaframe.testing import generate_photo_avdf, generate_synthetic_avdf

# Default clip durations (seconds) of each generator.
DURATIONS = dict(cartoon=(3.0, 6.0), photo=(3.0, 20.0))


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('root', help='output folder (created)')
    parser.add_argument('--train', type=int, default=480, help='number of train clips')
    parser.add_argument('--val', type=int, default=120, help='number of val clips')
    parser.add_argument('--testA', type=int, default=60, help='number of testA clips')
    parser.add_argument('--testB', type=int, default=60, help='number of testB clips')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    parser.add_argument('--silent', type=int, default=2,
                        help='extra silent 1280x720 real clips in train and in val')
    parser.add_argument('--frame-size', type=int, default=224, help='side of the square frames')
    parser.add_argument('--min-duration', type=float, default=None,
                        help='seconds (default 3)')
    parser.add_argument('--max-duration', type=float, default=None,
                        help='seconds (default 6 for cartoon, 20 for photo)')
    parser.add_argument('--generator', choices=sorted(DURATIONS), default='cartoon',
                        help='cartoon faces and harmonic speech (default), or talking '
                        'photographs and source-filter speech')
    parser.add_argument('--workers', type=int, default=1,
                        help='processes for --generator photo (same output for any number)')
    parser.add_argument('--segment-range', type=float, nargs=2, metavar=('START', 'END'),
                        help='place every fake segment within [START, END] seconds (negative: '
                        'from the end of the clip, e.g. -1 -0.08 for the last second); default: '
                        'anywhere after the first 0.5 s')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Entry point."""
    args = parse_args(argv)
    start = time.time()
    lo, hi = DURATIONS[args.generator]
    durations = (lo if args.min_duration is None else args.min_duration,
                 hi if args.max_duration is None else args.max_duration)
    kwargs = dict(seed=args.seed, num_silent=args.silent, duration_range=durations,
                  frame_size=args.frame_size, progress=not args.no_progress)
    if args.generator == 'photo':
        if args.segment_range:
            raise SystemExit('make_synthetic_avdf.py: --segment-range applies to '
                             '--generator cartoon only')
        meta = generate_photo_avdf(args.root, args.train, args.val, args.testA, args.testB,
                                   workers=args.workers, **kwargs)
    else:
        meta = generate_synthetic_avdf(
            args.root, args.train, args.val, args.testA, args.testB,
            segment_range=tuple(args.segment_range) if args.segment_range else None, **kwargs)
    counts = ', '.join(f'{k}: {len(v)}' for k, v in meta.items())
    print(f'wrote {counts} clips to {args.root} in {time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
