"""Decoded-clip cache benchmark: clips/s per core from the videos and from the cache, and the
disk footprint.

Pipelines (the training pipelines of two configs, on 10 s 224x224 25 fps clips with 16 kHz AAC
audio written by the synthetic generator into a temporary folder):

* ``dense``: ``configs/hola/hola-dense_tiny_1xb8-10min_synthetic.py`` (64 consecutive frames,
  half of the windows centred on a fake segment, 48 x 48 mouth crop, per-frame log-mel, frame
  labels);
* ``paper``: ``configs/_base_/datasets/avdf1mpp_paper.py`` (the paper's input: 16 uniformly
  sampled frames, short side 224, random crop, flip, MFCC-32 in 16 segments).

For each pipeline the clips are packed (``holaframe.datasets.clip_packing.pack_dataset``, as
``tools/data/pack_clips.py`` does, one process), then every clip is read ``--repeats`` times
through the video dataset (``AVDeepfake1MDataset``) and through ``PackedClipDataset``, the two
passes alternating, in this process with one compute thread (torch, OpenCV, OpenMP), as a
dataloader worker does. **Clips/s per core** = clips / CPU seconds of the process (on a free
core that is the clips/s of one worker; the machine may be shared, so the wall-clock rate is
reported too). The ratio packed / video is printed against the 10x target. Both read from the
page cache (the videos and the shards were just written).

Disk: the bytes of the shards per clip and per second of video, extrapolated to the
AV-Deepfake1M++ training set (``--dataset-clips`` 1.1 M clips of ``--dataset-seconds`` 10 s,
25 fps, 224 x 224 source frames like the synthetic clips); and the bytes a packed sample reads
(the sampled frames and the audio).

Usage::

    python benchmarks/bench_packed_clips.py --num-clips 8 --repeats 3

Results are printed and written as JSON (default ``benchmarks/results/bench_packed_clips.json``).
The target is printed, never asserted.
"""

import os

os.environ.setdefault('OMP_NUM_THREADS', '1')

import argparse  # noqa: E402
import json  # noqa: E402
import os.path as osp  # noqa: E402
import platform  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from typing import Dict, List  # noqa: E402

import measure  # noqa: E402

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: Packed clips/s per core over video clips/s per core that the cache aims for.
TARGET_RATIO = 10.0
PIPELINES = {
    'dense': ('configs/hola/hola-dense_tiny_1xb8-10min_synthetic.py', 'train_pipeline'),
    'paper': ('configs/_base_/datasets/avdf1mpp_paper.py', 'train_pipeline'),
}


def pipeline_of(name: str) -> List[dict]:
    """The training pipeline of the config behind ``name``."""
    from mmengine.config import Config
    path, key = PIPELINES[name]
    return [dict(t) for t in Config.fromfile(osp.join(REPO, path))[key]]


def read_pass(dataset) -> Dict[str, float]:
    """Read every sample once; wall and CPU seconds."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(len(dataset)):
        dataset[i]
    return dict(wall=time.perf_counter() - wall0, cpu=time.process_time() - cpu0)


def bytes_read(packed) -> float:
    """Mean bytes a packed sample reads from its shard: the sampled frames and the audio."""
    import numpy as np
    total = 0
    for i in range(len(packed)):
        info = packed.get_data_info(i)
        arrays = info['packed_arrays']
        frames = arrays['imgs']['shape']
        frame_bytes = int(np.prod(frames[1:]))
        sample = packed[i]
        total += frame_bytes * sample['inputs']['video'].shape[1]
        audio = arrays.get('waveform') or arrays.get('audio')
        if audio is not None:
            total += int(np.prod(audio['shape'])) * np.dtype(audio['dtype']).itemsize
    return total / max(len(packed), 1)


def run_pipeline(name: str, data_root: str, out_dir: str, repeats: int,
                 dataset_clips: float, dataset_seconds: float) -> Dict:
    """Pack the clips for pipeline ``name`` and time both datasets."""
    import numpy as np

    from holaframe.datasets import AVDeepfake1MDataset, PackedClipDataset
    from holaframe.datasets.clip_packing import pack_dataset
    pipeline = pipeline_of(name)
    source = AVDeepfake1MDataset(data_root=data_root, subset='train')
    cpu0, wall0 = time.process_time(), time.perf_counter()
    summary = pack_dataset(source, pipeline, out_dir, shard_size=4, progress=False)
    pack_cpu, pack_wall = time.process_time() - cpu0, time.perf_counter() - wall0
    videos = AVDeepfake1MDataset(data_root=data_root, subset='train', pipeline=pipeline)
    packed = PackedClipDataset(out_dir, pipeline=pipeline)
    n = len(videos)
    np.random.seed(0)
    videos[0], packed[0]  # warm-up: imports, first memory map
    video = dict(wall=0.0, cpu=0.0)
    cache = dict(wall=0.0, cpu=0.0)
    for _ in range(repeats):
        for total, dataset in ((video, videos), (cache, packed)):
            t = read_pass(dataset)
            total['wall'] += t['wall']
            total['cpu'] += t['cpu']
    clips = n * repeats
    seconds = sum(packed.get_data_info(i)['packed_extras']['total_frames'] /
                  packed.get_data_info(i)['packed_extras']['avg_fps'] for i in range(n))
    per_clip = summary['bytes'] / n
    per_second = summary['bytes'] / seconds
    video_core, cache_core = clips / video['cpu'], clips / cache['cpu']
    ratio = cache_core / video_core
    return dict(
        pipeline=name, config=PIPELINES[name][0], clips=n, repeats=repeats,
        video_clips_per_s_per_core=round(video_core, 2),
        packed_clips_per_s_per_core=round(cache_core, 2),
        video_clips_per_s_wall=round(clips / video['wall'], 2),
        packed_clips_per_s_wall=round(clips / cache['wall'], 2),
        ratio_per_core=round(ratio, 2), ratio_wall=round(video['wall'] / cache['wall'], 2),
        target_ratio=TARGET_RATIO, target_met=bool(ratio >= TARGET_RATIO),
        pack_cpu_s_per_clip=round(pack_cpu / n, 3), pack_wall_s_per_clip=round(pack_wall / n, 3),
        disk_bytes_per_clip=int(per_clip), disk_bytes_per_video_second=int(per_second),
        index_bytes_per_clip=int(os.path.getsize(summary['index']) / n),
        read_bytes_per_sample=int(bytes_read(packed)),
        extrapolated_tb=round(per_second * dataset_seconds * dataset_clips / 1e12, 2))


def make_clips(folder: str, num: int) -> str:
    """Write ``num`` synthetic 10 s 224x224 training clips; return the dataset root."""
    from holaframe.testing import generate_synthetic_avdf
    generate_synthetic_avdf(folder, num, 0, 0, 0, seed=0, num_silent=0,
                            duration_range=(10.0, 10.0), write_test_labels=False)
    return folder


def parse_args(argv=None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num-clips', type=int, default=8, help='10 s clips to generate')
    parser.add_argument('--repeats', type=int, default=3, help='read passes over the clips')
    parser.add_argument('--pipelines', nargs='+', default=list(PIPELINES), choices=PIPELINES)
    parser.add_argument('--dataset-clips', type=float, default=1.1e6,
                        help='training clips of the extrapolation (AV-Deepfake1M++: ~1.1 M)')
    parser.add_argument('--dataset-seconds', type=float, default=10.0,
                        help='mean clip length of the extrapolation in seconds')
    parser.add_argument('--out', default='benchmarks/results/bench_packed_clips.json')
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Entry point."""
    args = parse_args(argv)
    import cv2
    import torch
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    load_before = measure.loadavg()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.time()
        root = make_clips(osp.join(tmp, 'data'), args.num_clips)
        print(f'generated {args.num_clips} 10 s clips in {time.time() - t0:.1f} s', flush=True)
        for name in args.pipelines:
            res = run_pipeline(name, root, osp.join(tmp, f'pack_{name}'), args.repeats,
                               args.dataset_clips, args.dataset_seconds)
            results.append(res)
            verdict = 'met' if res['target_met'] else 'not met'
            print(f'{name:6s} video {res["video_clips_per_s_per_core"]:7.2f} clips/s/core, '
                  f'packed {res["packed_clips_per_s_per_core"]:8.2f} clips/s/core: '
                  f'{res["ratio_per_core"]:.2f}x (target {TARGET_RATIO:g}x: {verdict}; wall '
                  f'{res["ratio_wall"]:.2f}x)')
            print(f'{"":6s} disk {res["disk_bytes_per_clip"] / 2**20:.2f} MiB per 10 s clip '
                  f'({res["disk_bytes_per_video_second"] / 2**10:.0f} KiB per second of video), '
                  f'{res["read_bytes_per_sample"] / 2**20:.2f} MiB read per sample; '
                  f'{args.dataset_clips / 1e6:g} M clips x {args.dataset_seconds:g} s: '
                  f'{res["extrapolated_tb"]:.2f} TB (index '
                  f'{res["index_bytes_per_clip"] * args.dataset_clips / 1e9:.2f} GB); packing '
                  f'{res["pack_cpu_s_per_clip"]:.3f} CPU-s per clip', flush=True)
    report = dict(benchmark='bench_packed_clips', clip='10 s, 224x224, 25 fps, AAC 16 kHz mono',
                  results=results, target_ratio=TARGET_RATIO,
                  extrapolation=dict(clips=args.dataset_clips, seconds=args.dataset_seconds,
                                     assumption='25 fps, 224 x 224 source frames, the '
                                     'synthetic clips\' bytes per second of video'),
                  cpu_count=os.cpu_count(), load_average_before=load_before,
                  load_average=measure.loadavg(), python=platform.python_version(),
                  note='one process, one compute thread; per core = clips per CPU second')
    print(f'load average before {load_before}, after {report["load_average"]}')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=1)
    print(f'wrote {args.out}')


def summarize(report: dict) -> List[Dict[str, str]]:
    """One row per pipeline for the suite's summary (``benchmarks/run.py``)."""
    return [{
        'pipeline': r['pipeline'], 'video clips/s/core': f"{r['video_clips_per_s_per_core']:.2f}",
        'packed clips/s/core': f"{r['packed_clips_per_s_per_core']:.2f}",
        'ratio': f"{r['ratio_per_core']:.2f}x",
        f'>= {r["target_ratio"]:g}x': 'yes' if r['target_met'] else 'no',
        'MiB per clip': f"{r['disk_bytes_per_clip'] / 2**20:.2f}",
        'TB (1.1 M clips)': f"{r['extrapolated_tb']:.2f}",
    } for r in report['results']]


if __name__ == '__main__':
    main()
