"""Score random Track 2 submissions with the official SDK and save inputs and results as JSON.

    python tools/misc/make_track2_sdk_fixture.py --out tests/data/track2_sdk_reference.json

Needs only numpy and the official ``avdeepfake1m`` package (github.com/ControlNet/AV-Deepfake1M;
``pip install --no-deps avdeepfake1m==0.0.4`` in a separate environment is enough: its
evaluation is a compiled extension, loaded here without the package's torch-based loader), so it
runs with that environment's Python and does not import holaframe. The cases are generated from
``--seed``: ``random`` (``--num-videos`` videos with 0-5 fake segments on a 25 fps grid, 1-60
proposals each around the segments and elsewhere, rounded confidences for ties, some lists
unsorted, some proposals duplicated) and the hand-made cases of the docs (a perfect proposal in
one and in two videos, a boundary one frame off, real videos only). Every case is scored by
``ap_ar_1d(proposals.json, metadata.json, 'file', 'fake_segments', 1.0, [0.5, 0.75, 0.9, 0.95],
[50, 30, 20, 10, 5], [0.5, 0.55, ..., 0.95])``, the call of the SDK's README.
``tests/test_evaluation/test_localization_functional.py`` compares holaframe's implementation
with the saved results.
"""

import argparse
import glob
import importlib.util
import json
import os
import os.path as osp
import sys
import tempfile

import numpy as np

AP_IOU_THRESHOLDS = [0.5, 0.75, 0.9, 0.95]
AR_NUM_PROPOSALS = [50, 30, 20, 10, 5]
AR_IOU_THRESHOLDS = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95]
FPS = 25.0


def load_sdk():
    """The SDK's compiled ``avdeepfake1m._evaluation`` module and the package version."""
    spec = importlib.util.find_spec('avdeepfake1m')
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit('make_track2_sdk_fixture.py: the official avdeepfake1m package is not '
                         f'installed for {sys.executable}')
    folder = list(spec.submodule_search_locations)[0]
    found = glob.glob(osp.join(folder, '_evaluation*'))
    if not found:
        raise SystemExit(f'make_track2_sdk_fixture.py: {folder} has no _evaluation extension')
    # Loaded by file: the package's __init__ imports its torch-based data loader.
    ext_spec = importlib.util.spec_from_file_location('avdeepfake1m._evaluation', found[0])
    module = importlib.util.module_from_spec(ext_spec)
    ext_spec.loader.exec_module(module)
    try:
        from importlib.metadata import version
        pkg_version = version('avdeepfake1m')
    except Exception:  # noqa: BLE001 - metadata is optional for a source checkout
        pkg_version = getattr(module, '__version__', 'unknown')
    return module, pkg_version


def random_case(rng: np.random.Generator, num_videos: int) -> dict:
    """A submission and its metadata: fakes with 1-5 segments, reals, ties, unsorted lists."""
    metadata, proposals = [], {}
    for v in range(num_videos):
        frames = int(rng.integers(50, 400))
        num_segments = int(rng.choice([0, 0, 1, 1, 1, 2, 3, 5]))
        segments = []
        for _ in range(num_segments):
            start = int(rng.integers(0, frames - 2))
            end = min(frames, start + int(rng.integers(1, 50)))
            segments.append([start / FPS, end / FPS])
        rows = []
        for _ in range(int(rng.integers(1, 61))):
            kind = rng.random()
            if segments and kind < 0.5:  # near a segment: exact, a few frames off, or jittered
                start, end = segments[int(rng.integers(len(segments)))]
                start += int(rng.integers(-2, 3)) / FPS
                end += int(rng.integers(-2, 3)) / FPS
                if rng.random() < 0.3:
                    start, end = start + rng.normal(0, 0.03), end + rng.normal(0, 0.03)
                if end <= start:
                    end = start + 1 / FPS
            else:
                start = float(rng.uniform(0, frames / FPS))
                end = start + float(rng.uniform(0.04, 3.0))
            confidence = float(rng.random())
            if rng.random() < 0.3:
                confidence = round(confidence, 1)  # ties within and across videos
            rows.append([round(confidence, 4), round(float(start), 4), round(float(end), 4)])
        if rows and rng.random() < 0.2:
            rows.append(list(rows[0]))  # a duplicate
        if rng.random() < 0.8:
            rows.sort(key=lambda r: -r[0])  # else: left unsorted
        name = f'id{v:03d}/clip_{v:03d}.mp4'
        metadata.append(dict(file=name, fake_segments=segments))
        proposals[name] = rows
    return dict(name='random', metadata=metadata, proposals=proposals)


def hand_cases() -> list:
    """The small cases the docs compute by hand."""
    one = dict(file='a.mp4', fake_segments=[[1.0, 2.0]])
    two = dict(file='b.mp4', fake_segments=[[1.0, 2.0]])
    three = dict(file='c.mp4', fake_segments=[[1.0, 2.0]])
    four = dict(file='d.mp4', fake_segments=[[0.0, 4.0]])
    real = dict(file='r.mp4', fake_segments=[])
    return [
        dict(name='one_perfect', metadata=[one], proposals={'a.mp4': [[0.9, 1.0, 2.0]]}),
        dict(name='two_perfect', metadata=[one, two],
             proposals={'a.mp4': [[0.9, 1.0, 2.0]], 'b.mp4': [[0.8, 1.0, 2.0]]}),
        # One frame is 0.04 s: IoU 0.96 (> 0.95) for b, 0.92 (< 0.95, > 0.9) for c.
        dict(name='one_frame_off', metadata=[one, two, three, real],
             proposals={'a.mp4': [[0.9, 1.0, 2.0]], 'b.mp4': [[0.8, 1.04, 2.0]],
                        'c.mp4': [[0.7, 1.0, 1.92]], 'r.mp4': [[0.1, 0.0, 1.0]]}),
        # IoU exactly 0.75 is no match at 0.75: a match needs IoU > threshold.
        dict(name='iou_equal_threshold', metadata=[one, four],
             proposals={'a.mp4': [[0.9, 1.0, 2.0]], 'd.mp4': [[0.8, 0.0, 3.0]]}),
        dict(name='only_real', metadata=[real], proposals={'r.mp4': [[0.5, 0.0, 1.0]]}),
    ]


def score(module, case: dict) -> dict:
    """``ap_ar_1d`` of the SDK on one case (through temporary JSON files)."""
    with tempfile.TemporaryDirectory() as tmp:
        prop_file, meta_file = osp.join(tmp, 'proposals.json'), osp.join(tmp, 'metadata.json')
        with open(prop_file, 'w') as f:
            json.dump(case['proposals'], f)
        with open(meta_file, 'w') as f:
            json.dump(case['metadata'], f)
        result = module.ap_ar_1d(prop_file, meta_file, 'file', 'fake_segments', 1.0,
                                 AP_IOU_THRESHOLDS, AR_NUM_PROPOSALS, AR_IOU_THRESHOLDS)
    # The SDK keys AP by the float32 threshold (0.9 -> 0.8999999761...): keep the given ones.
    ap = [None if v != v else v for v in result['ap'].values()]  # NaN -> null in JSON
    return dict(ap=dict(zip(map(str, AP_IOU_THRESHOLDS), ap)),
                ar={str(k): v for k, v in result['ar'].items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', required=True, help='JSON file to write')
    parser.add_argument('--seed', type=int, default=0, help='seed of the random case')
    parser.add_argument('--num-videos', type=int, default=50, help='videos of the random case')
    args = parser.parse_args()
    module, pkg_version = load_sdk()
    cases = [random_case(np.random.default_rng(args.seed), args.num_videos)] + hand_cases()
    for case in cases:
        case['sdk'] = score(module, case)
    out = dict(
        sdk=dict(package='avdeepfake1m', version=pkg_version, function='ap_ar_1d',
                 args=dict(file_key='file', value_key='fake_segments', fps=1.0,
                           ap_iou_thresholds=AP_IOU_THRESHOLDS,
                           ar_n_proposals=AR_NUM_PROPOSALS,
                           ar_iou_thresholds=AR_IOU_THRESHOLDS)),
        command=(f'python tools/misc/make_track2_sdk_fixture.py --out {args.out} '
                 f'--seed {args.seed} --num-videos {args.num_videos}'),
        cases=cases)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(out, f, separators=(',', ':'))
        f.write('\n')
    print(f'{len(cases)} cases scored by avdeepfake1m {pkg_version}; written to {args.out}')


if __name__ == '__main__':
    main()
