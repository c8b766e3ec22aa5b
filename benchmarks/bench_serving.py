"""The scoring service under load: requests/min, p50/p95 latency, memory, server overhead.

For each model (default ``tiny`` and ``base``, the configs of bench_inference_latency.py) and
precision (``fp32``, ``int8``) a server is started as its own process (``tools/serve.py
CONFIG CHECKPOINT --workers 1 --threads T``, random weights saved to a temporary checkpoint),
and a client on the same machine posts synthetic 10 s 224x224 clips (multipart, as a browser
or ``curl -F`` does), one request at a time after ``--warmup`` untimed ones. Reported per
model and precision:

* ``requests_per_min``: timed requests over the wall time of the timed phase;
* ``p50_s`` / ``p95_s``: client-side latency (upload to parsed JSON);
* ``scoring_s``: the server's own decode + face tracking + features + model time (median);
  ``model_s``: the model alone (median);
* ``overhead_s``: client latency minus the scoring time (upload, probe, queue, HTTP, JSON),
  median, and as a fraction of ``model_s`` and of ``scoring_s``;
* ``idle_rss_mib`` (after start-up and one ``/healthz``) and ``peak_rss_mib`` of the server.

Usage::

    python benchmarks/bench_serving.py --threads 2 --requests 8
    python benchmarks/bench_serving.py --models tiny --precisions fp32 --requests 2

The server and the client share the machine's cores (the client mostly waits). Run alone for
reportable numbers and note the load average printed with them.
"""

import argparse
import json
import os
import os.path as osp
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Dict, List

import measure
from bench_inference_latency import DEFAULT_MODELS, make_clips

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
PRECISIONS = ('fp32', 'int8')


def write_checkpoint(config: str, path: str) -> int:
    """Save random weights (seed 0) of ``config``'s model; returns its parameter count."""
    import torch

    from holaframe.apis import init_detector
    torch.manual_seed(0)
    model = init_detector(config, None)
    torch.save(dict(state_dict=model.state_dict()), path)
    return sum(p.numel() for p in model.parameters())


def _percentile(values: List[float], q: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def serve_and_measure(config: str, ckpt: str, precision: str, clips: List[str], warmup: int,
                      requests: int, threads: int) -> Dict:
    """Start the server, send the requests, stop it; the measured row."""
    import psutil

    from holaframe.testing.service_client import free_port, get_json, post_video
    port = free_port()
    cmd = [sys.executable, osp.join(REPO, 'tools', 'serve.py'), config, ckpt, '--port',
           str(port), '--workers', '1', '--threads', str(threads), '--log-level', 'warning']
    if precision == 'int8':
        cmd += ['--quantize', 'int8']
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               PYTHONPATH=os.pathsep.join(p for p in (REPO, os.environ.get('PYTHONPATH')) if p))
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env)
    try:
        url = f'http://127.0.0.1:{port}'
        while True:
            try:
                if get_json(url + '/healthz', timeout=2)[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.perf_counter() - t0 > 300:
                raise RuntimeError(f'bench_serving.py: the server did not start: {cmd}')
            time.sleep(0.2)
        startup_s = time.perf_counter() - t0
        server = psutil.Process(proc.pid)
        idle = server.memory_info().rss / 2**20
        mem_probe = measure.ProcessTreeMemory()
        mem_probe.proc = server  # the server's tree, not this client's
        with mem_probe:
            lat, bodies = [], []
            for k in range(warmup):
                post_video(url + '/v1/score', clips[k % len(clips)])
            start = time.perf_counter()
            for k in range(requests):
                t = time.perf_counter()
                status, _, body = post_video(url + '/v1/score', clips[k % len(clips)])
                lat.append(time.perf_counter() - t)
                if status != 200:
                    raise RuntimeError(f'bench_serving.py: request {k} got {status}: {body}')
                bodies.append(body)
            wall = time.perf_counter() - start
        tim = [b['timings'] for b in bodies]
        scoring = [t['decode_s'] + t.get('face_s', 0) + t['features_s'] + t['model_s']
                   for t in tim]
        overhead = [x - s for x, s in zip(lat, scoring)]
        model_s = statistics.median(t['model_s'] for t in tim)
        return dict(
            precision=precision, requests=requests, startup_s=round(startup_s, 2),
            requests_per_min=round(60.0 * requests / wall, 2),
            p50_s=round(_percentile(lat, 0.5), 4), p95_s=round(_percentile(lat, 0.95), 4),
            scoring_s=round(statistics.median(scoring), 4), model_s=round(model_s, 4),
            decode_s=round(statistics.median(t['decode_s'] for t in tim), 4),
            face_s=round(statistics.median(t.get('face_s', 0) for t in tim), 4),
            features_s=round(statistics.median(t['features_s'] for t in tim), 4),
            overhead_s=round(statistics.median(overhead), 4),
            server_side_overhead_s=round(statistics.median(t['server_overhead_s']
                                                           for t in tim), 4),
            overhead_vs_model=round(statistics.median(overhead) / max(model_s, 1e-9), 4),
            overhead_vs_scoring=round(statistics.median(overhead)
                                      / max(statistics.median(scoring), 1e-9), 4),
            idle_rss_mib=round(idle, 1), peak_rss_mib=round(max(mem_probe.peak_mib, idle), 1),
            upload_mib=round(statistics.mean(osp.getsize(c) for c in clips) / 2**20, 3))
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--models', nargs='+', default=list(DEFAULT_MODELS),
                        help=f'names among {list(DEFAULT_MODELS)} or NAME=CONFIG pairs')
    parser.add_argument('--precisions', nargs='+', default=list(PRECISIONS), choices=PRECISIONS)
    parser.add_argument('--requests', type=int, default=8, help='timed requests per server')
    parser.add_argument('--warmup', type=int, default=1, help='untimed requests first')
    parser.add_argument('--num-clips', type=int, default=4, help='distinct 10 s clips sent')
    parser.add_argument('--threads', type=int, default=2, help='torch threads of the server')
    parser.add_argument('--out', default=osp.join(REPO, 'benchmarks', 'results',
                                                  'bench_serving.json'))
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    results = []
    load_before = measure.loadavg()
    with tempfile.TemporaryDirectory() as tmp:
        clips = make_clips(tmp, args.num_clips)
        for item in args.models:
            name, _, config = item.partition('=')
            config = config or DEFAULT_MODELS[name]
            ckpt = osp.join(tmp, f'{name}.pth')
            params = write_checkpoint(config, ckpt)
            for precision in args.precisions:
                row = serve_and_measure(config, ckpt, precision, clips, args.warmup,
                                        args.requests, args.threads)
                row.update(model=name, config=osp.relpath(config, REPO),
                           params_m=round(params / 1e6, 2), loadavg=measure.loadavg())
                results.append(row)
                print(f'{name:<5} {precision:<5} {row["requests_per_min"]:>7.1f} req/min  '
                      f'p50 {row["p50_s"]:.3f} s  p95 {row["p95_s"]:.3f} s  model '
                      f'{row["model_s"]:.3f} s  scoring {row["scoring_s"]:.3f} s  overhead '
                      f'{row["overhead_s"]:.3f} s ({row["overhead_vs_model"]:.1%} of model, '
                      f'{row["overhead_vs_scoring"]:.1%} of scoring)  RSS idle '
                      f'{row["idle_rss_mib"]:.0f} / peak {row["peak_rss_mib"]:.0f} MiB  '
                      f'load {row["loadavg"]}', flush=True)
    report = dict(benchmark='serving_10s_clips', threads=args.threads,
                  python=sys.version.split()[0], machine=platform.machine(),
                  cpu_count=os.cpu_count(),
                  loadavg_before=load_before, loadavg_after=measure.loadavg(), results=results)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        json.dump(report, f, indent=2)
    print(f'written to {args.out}')
    return 0


def summarize(report: dict) -> List[Dict[str, str]]:
    """One row per model and precision for the suite's summary (``benchmarks/run.py``)."""
    return [{
        'model': r['model'], 'precision': r['precision'],
        'req/min': f"{r['requests_per_min']:.1f}", 'p50 (s)': f"{r['p50_s']:.3f}",
        'p95 (s)': f"{r['p95_s']:.3f}", 'model (s)': f"{r['model_s']:.3f}",
        'scoring (s)': f"{r['scoring_s']:.3f}", 'overhead (s)': f"{r['overhead_s']:.3f}",
        'overhead / model': f"{r['overhead_vs_model']:.1%}",
        'overhead / scoring': f"{r['overhead_vs_scoring']:.1%}",
        'RSS idle / peak (MiB)': f"{r['idle_rss_mib']:.0f} / {r['peak_rss_mib']:.0f}",
    } for r in report['results']]


if __name__ == '__main__':
    sys.exit(main())
