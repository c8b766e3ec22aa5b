"""Detection rate and box IoU of the face detectors and tracker on the test scenes.

``python tools/analysis_tools/eval_face_tracking.py [--detectors dlib_hog haar] [--n 10]``
prints one Markdown table row per case (see :mod:`holaframe.testing.face_scenes` and
docs/face_tracking.md): still frames of the ``astronaut`` photograph at several face sizes and
rotations, moving clips (one face, two faces, a face leaving the frame) and the synthetic
cartoon speaker. Needs scikit-image (the ``tests`` extra).
"""

import argparse
import time

from holaframe.testing.face_scenes import evaluate_face_scenes


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--detectors', nargs='+', default=['dlib_hog', 'haar'])
    parser.add_argument('--n', type=int, default=10, help='random placements per still case')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    rows = {}
    for name in args.detectors:
        start = time.perf_counter()
        rows[name] = evaluate_face_scenes(name, seed=args.seed, n=args.n)
        print(f'{name}: {time.perf_counter() - start:.1f} s')
    head = ' | '.join(f'{d} detected | {d} IoU' for d in args.detectors)
    print(f'| case | n | {head} |')
    print('|---|---|' + '---|---|' * len(args.detectors))
    for i, row in enumerate(rows[args.detectors[0]]):
        cells = ' | '.join(f"{rows[d][i]['detected']:.0%} | {rows[d][i]['iou']:.2f}"
                           for d in args.detectors)
        print(f"| {row['case']} | {row['n']} | {cells} |")


if __name__ == '__main__':
    main()
