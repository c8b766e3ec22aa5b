"""Generate a synthetic mini AV-Deepfake1M++ dataset (same layout and metadata fields).

Example::

    python tools/data/make_synthetic_avdf.py data/synthetic_avdf --train 480 --val 120 \
        --testA 60 --testB 60 --seed 0

See ``docs/data.md`` for the design of the clips and their fakes.
"""

import argparse
import time

from holaframe.testing import generate_synthetic_avdf


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
    parser.add_argument('--min-duration', type=float, default=3.0, help='seconds')
    parser.add_argument('--max-duration', type=float, default=6.0, help='seconds')
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
    meta = generate_synthetic_avdf(
        args.root, args.train, args.val, args.testA, args.testB, seed=args.seed,
        num_silent=args.silent, duration_range=(args.min_duration, args.max_duration),
        frame_size=args.frame_size, progress=not args.no_progress,
        segment_range=tuple(args.segment_range) if args.segment_range else None)
    counts = ', '.join(f'{k}: {len(v)}' for k, v in meta.items())
    print(f'wrote {counts} clips to {args.root} in {time.time() - start:.1f} s')


if __name__ == '__main__':
    main()
