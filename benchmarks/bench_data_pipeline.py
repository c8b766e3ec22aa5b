"""Data-pipeline benchmark: clips/s and peak memory of the input pipelines.

Pipelines, on 10 s 224x224 25 fps clips with 16 kHz mono audio (written by the synthetic
generator into a temporary folder, or read from ``--data``):

* ``finetune``: the paper's input, 16 uniformly sampled frames (decord decodes only those) at
  224 + MFCC-32 in 16 aligned segments (holaframe transforms, ``configs/_base_/datasets``);
* ``pretrain``: 16 frames at stride 4 at 160 + the HiCMAE fbank (1, 256, 128); the audio is
  decoded only for the 2.575 s the fbank reads (``AudioDecode(window=2.575)``);
* ``naive_finetune`` / ``naive_pretrain``: the straightforward baseline, decoding every frame with
  PyAV and then sampling, and running librosa on the whole waveform (MFCC, or librosa's
  128-bin log-mel for the fbank).

Each (pipeline, workers) pair runs in a fresh subprocess with a ``torch.utils.data.DataLoader``
(batch size 1; ``num_workers`` 1 or 2, or 0 = in the main process; a warm-up of ``--warmup``
clips per worker excluded from the timing). Peak memory is the largest resident set size over the
main process and its workers (sampled with psutil every 50 ms by ``measure.ProcessTreeMemory``).
Clips/s per core = clips/s / max(workers, 1); torch and OpenCV run one compute thread in every
process.

Usage::

    python benchmarks/bench_data_pipeline.py --num-clips 24 --workers 1 2

Results are printed and written as JSON (default ``benchmarks/results/bench_data_pipeline.json``).
The machine is shared: the numbers are noisy; run it alone for reportable figures.
"""

import argparse
import json
import os
import os.path as osp
import platform
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

import measure

PIPELINES = ('finetune', 'naive_finetune', 'pretrain', 'naive_pretrain')


def holaframe_pipeline(name: str) -> List[dict]:
    """Transform configs of the holaframe pipelines."""
    if name == 'finetune':
        return [
            dict(type='DecordInit'),
            dict(type='UniformSampleFrames', num_frames=16, test_mode=False),
            dict(type='DecordDecode'),
            dict(type='VideoResize', short_side=224),
            dict(type='VideoCenterCrop', crop_size=224),
            dict(type='AudioDecode', sample_rate=16000, normalize='peak'),
            dict(type='AudioMFCCSegments', n_mfcc=32),
            dict(type='PackAVInputs'),
        ]
    return [
        dict(type='DecordInit'),
        dict(type='SampleClipFrames', clip_len=16, frame_interval=4),
        dict(type='DecordDecode'),
        dict(type='VideoResize', short_side=160),
        dict(type='VideoRandomCrop', crop_size=160),
        # Only the 2.575 s the fbank reads (256 frames of 25 ms every 10 ms) are decoded.
        dict(type='AudioDecode', sample_rate=16000, window=2.575),
        dict(type='AudioFbank', num_mel_bins=128, target_length=256),
        dict(type='PackAVInputs'),
    ]


class NaiveDataset:
    """The baseline: decode every frame with PyAV, then sample; librosa on the whole waveform.

    Args:
        files: Video files.
        mode: ``'finetune'`` (16 uniform frames at 224, MFCC-32 in 16 segments) or
            ``'pretrain'`` (16 frames at stride 4 at 160, 128-bin log-mel of 256 frames).
    """

    def __init__(self, files: List[str], mode: str) -> None:
        self.files = files
        self.mode = mode

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, idx: int) -> dict:
        import av
        import cv2
        import librosa
        import numpy as np
        import torch
        with av.open(self.files[idx]) as c:
            frames = [f.to_ndarray(format='rgb24') for f in c.decode(video=0)]
        with av.open(self.files[idx]) as c:
            res = av.AudioResampler(format='flt', layout='mono', rate=16000)
            chunks = [o.to_ndarray().reshape(-1) for f in c.decode(audio=0)
                      for o in res.resample(f)]
        wave = np.concatenate(chunks)
        n = len(frames)
        if self.mode == 'finetune':
            inds = (np.arange(16) * n / 16 + np.random.uniform(0, n / 16, 16)).astype(int)
            size = 224
            mfcc = librosa.feature.mfcc(y=wave, sr=16000, n_mfcc=32, n_fft=512,
                                        win_length=400, hop_length=160)
            audio = np.stack([s.mean(1) for s in np.array_split(mfcc, 16, axis=1)])
        else:
            start = np.random.randint(0, max(n - 61, 1))
            inds = np.minimum(start + np.arange(16) * 4, n - 1)
            size = 160
            mel = librosa.feature.melspectrogram(y=wave, sr=16000, n_fft=512, win_length=400,
                                                 hop_length=160, n_mels=128)
            audio = np.log(mel + 1e-6).T[:256][None]
        imgs = np.stack([cv2.resize(frames[i], (size, size)) for i in inds])
        return dict(video=torch.from_numpy(imgs).permute(3, 0, 1, 2),
                    audio=torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32)))


class PipelineDataset:
    """Applies a holaframe pipeline to a list of files (no metadata needed)."""

    def __init__(self, files: List[str], pipeline: List[dict]) -> None:
        from mmengine.dataset import Compose

        import holaframe.datasets  # noqa: F401 (registers the transforms)
        from holaframe.registry import TRANSFORMS
        self.files = files
        self.pipeline = Compose([TRANSFORMS.build(t) for t in pipeline])

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, idx: int) -> dict:
        return self.pipeline(dict(filename=self.files[idx], gt_label=-1, sample_idx=idx))


def _identity(batch):
    return batch


def _one_thread(*_):
    """One compute thread for torch and OpenCV (main process and every worker), so that the
    per-core figures of both pipelines are honest."""
    import cv2
    import torch
    torch.set_num_threads(1)
    cv2.setNumThreads(1)


def run_single(files: List[str], name: str, workers: int, warmup: int) -> Dict:
    """Time one pipeline with ``workers`` dataloader workers (in this process)."""
    import torch
    _one_thread()
    if name.startswith('naive_'):
        ds = NaiveDataset(files, name[len('naive_'):])
    else:
        ds = PipelineDataset(files, holaframe_pipeline(name))
    extra = dict(prefetch_factor=2) if workers > 0 else {}
    loader = torch.utils.data.DataLoader(ds, batch_size=1, num_workers=workers,
                                         collate_fn=_identity, worker_init_fn=_one_thread,
                                         **extra)
    cores = max(workers, 1)  # workers=0: the main process does the work
    with measure.ProcessTreeMemory(interval=0.05) as sampler:
        it = iter(loader)
        for _ in range(warmup * cores):
            next(it)
        start = time.perf_counter()
        count = 0
        for _ in it:
            count += 1
        elapsed = time.perf_counter() - start
    return dict(pipeline=name, workers=workers, clips=count, seconds=round(elapsed, 3),
                clips_per_s=round(count / elapsed, 3),
                clips_per_s_per_core=round(count / elapsed / cores, 3),
                peak_rss_mb=round(sampler.peak_mib, 1))


def make_clips(folder: str, num: int) -> List[str]:
    """Write ``num`` synthetic 10 s 224x224 clips; return their paths."""
    from holaframe.testing import generate_synthetic_avdf
    meta = generate_synthetic_avdf(folder, num, 0, 0, 0, seed=0, num_silent=0,
                                   duration_range=(10.0, 10.0), write_test_labels=False)
    return [osp.join(folder, 'train', m['file']) for m in meta['train']]


def parse_args(argv=None) -> argparse.Namespace:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--num-clips', type=int, default=24, help='clips per measurement')
    parser.add_argument('--workers', type=int, nargs='+', default=[1, 2],
                        help='dataloader workers to try (0 = in the main process)')
    parser.add_argument('--pipelines', nargs='+', default=list(PIPELINES), choices=PIPELINES)
    parser.add_argument('--warmup', type=int, default=2, help='warm-up clips per worker')
    parser.add_argument('--data', help='folder of existing .mp4 clips (default: generate)')
    parser.add_argument('--out', default='benchmarks/results/bench_data_pipeline.json')
    parser.add_argument('--single', help=argparse.SUPPRESS)  # internal: pipeline,workers
    parser.add_argument('--files', help=argparse.SUPPRESS)  # internal: list file
    return parser.parse_args(argv)


def main(argv=None) -> None:
    """Entry point."""
    args = parse_args(argv)
    if args.single:
        name, workers = args.single.split(',')
        files = open(args.files).read().split('\n')
        print(json.dumps(run_single(files, name, int(workers), args.warmup)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        if args.data:
            import glob
            files = sorted(glob.glob(osp.join(args.data, '**', '*.mp4'), recursive=True))
            if not files:
                raise SystemExit(f'{args.data}: no .mp4 file found')
        else:
            t0 = time.time()
            files = make_clips(tmp, args.num_clips)
            print(f'generated {len(files)} 10 s clips in {time.time() - t0:.1f} s')
        list_file = osp.join(tmp, 'files.txt')
        with open(list_file, 'w') as f:
            f.write('\n'.join(files[:max(args.num_clips, 1)]))
        results = []
        for name in args.pipelines:
            for workers in args.workers:
                cmd = [sys.executable, __file__, '--single', f'{name},{workers}', '--files',
                       list_file, '--warmup', str(args.warmup)]
                env = dict(os.environ, OMP_NUM_THREADS='1')
                out = subprocess.run(cmd, capture_output=True, text=True, env=env)
                if out.returncode:
                    raise RuntimeError(f'{name} with {workers} workers failed:\n{out.stderr}')
                res = json.loads(out.stdout.strip().splitlines()[-1])
                results.append(res)
                print(f'{name:16s} workers={workers}  {res["clips_per_s"]:7.2f} clips/s  '
                      f'{res["clips_per_s_per_core"]:7.2f} clips/s/core  '
                      f'peak {res["peak_rss_mb"]:7.1f} MB')
    speedups = {}
    for kind in ('finetune', 'pretrain'):
        for workers in args.workers:
            ours = [r for r in results if r['pipeline'] == kind and r['workers'] == workers]
            base = [r for r in results
                    if r['pipeline'] == f'naive_{kind}' and r['workers'] == workers]
            if ours and base:
                ratio = ours[0]['clips_per_s'] / base[0]['clips_per_s']
                speedups[f'{kind}_workers{workers}'] = round(ratio, 2)
                print(f'speed-up over naive, {kind}, {workers} worker(s): {ratio:.2f}x')
    report = dict(benchmark='bench_data_pipeline', num_clips=args.num_clips,
                  clip='10 s, 224x224, 25 fps, AAC 16 kHz mono', results=results,
                  speedup_vs_naive=speedups, cpu_count=os.cpu_count(),
                  load_average=measure.loadavg(), python=platform.python_version(),
                  note='shared machine: numbers are noisy')
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=1)
    print(f'wrote {args.out}')


def summarize(report: dict) -> List[Dict[str, str]]:
    """One row per pipeline and worker count for the suite's summary (``benchmarks/run.py``)."""
    return [{
        'pipeline': r['pipeline'], 'workers': str(r['workers']),
        'clips/s': f"{r['clips_per_s']:.2f}", 'clips/s/core': f"{r['clips_per_s_per_core']:.2f}",
        'peak RSS (MB)': f"{r['peak_rss_mb']:.0f}"
    } for r in report['results']]


if __name__ == '__main__':
    main()
