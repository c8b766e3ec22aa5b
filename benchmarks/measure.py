"""Measurement helpers shared by the benchmark scripts: FLOPs, matmul peak, timing, memory.

Conventions used by every script of the suite:

* FLOPs are floating-point operations: ``2 *`` fvcore's count (fvcore counts one multiply-add as
  one "flop"), with ``scaled_dot_product_attention`` counted by
  :func:`holaframe.utils.flops.sdpa_flop_jit` (fvcore alone reports it as zero);
* the matmul peak ``P`` is the best fp32 ``n x n`` ``torch.mm`` throughput measured in the same
  process (``2 n^3`` FLOPs per product), and ``MFU = 3 * forward FLOPs / step time / P`` for a
  training step (forward + backward ~ 3 forwards);
* times are ``time.perf_counter`` wall seconds and ``time.process_time`` CPU seconds (all
  threads of the process); reports carry the load average, since the machines may be shared;
* memory is the resident set size in MiB (``2^20`` bytes).

The module is imported by the scripts as a sibling (``import measure``): run them as
``python benchmarks/<script>.py`` or through ``python benchmarks/run.py``.
"""

import os
import platform
import re
import statistics
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

__all__ = [
    'matmul_peak_flops', 'forward_flops', 'time_calls', 'time_stats', 'peak_rss_mib',
    'ProcessTreeMemory', 'ProcessTreeCpu', 'loadavg', 'machine_info', 'machine_name'
]


def _sync(device) -> None:
    import torch
    if torch.device(device).type == 'cuda':
        torch.cuda.synchronize(device)


def matmul_peak_flops(device: str = 'cpu', n: int = 2048, repeats: int = 5) -> Dict[str, float]:
    """Best-of-``repeats`` fp32 ``n x n`` matmul throughput.

    Args:
        device (str): ``cpu`` or ``cuda[:i]``.
        n (int): Matrix size.
        repeats (int): Timed products (after one warm-up product).

    Returns:
        dict: ``wall``: FLOP per wall second; ``cpu``: FLOP per CPU second of this process (all
        threads; meaningful on the CPU only).
    """
    import torch
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    torch.mm(a, b)
    _sync(device)
    best_wall = best_cpu = float('inf')
    for _ in range(repeats):
        cpu0, wall0 = time.process_time(), time.perf_counter()
        torch.mm(a, b)
        _sync(device)
        best_wall = min(best_wall, time.perf_counter() - wall0)
        best_cpu = min(best_cpu, time.process_time() - cpu0)
    flops = 2.0 * n**3
    return dict(wall=flops / best_wall, cpu=flops / max(best_cpu, 1e-9))


def forward_flops(module, inputs: Tuple[Any, ...]) -> Dict[str, Any]:
    """FLOPs of one forward of ``module(*inputs)`` (no gradients are kept).

    Args:
        module (nn.Module): A module taking tensors (wrap a detector so it does).
        inputs (tuple): Its positional inputs.

    Returns:
        dict: ``flops`` (``2 *`` fvcore count), ``fvcore_macs`` (the raw count) and the fvcore
        analysis itself (``analysis``) for per-module or per-operator breakdowns.
    """
    import torch

    from holaframe.utils.flops import flop_count_analysis
    analysis = flop_count_analysis(module, tuple(inputs))
    with torch.no_grad():
        count = float(analysis.total())
    return dict(flops=2.0 * count, fvcore_macs=count, analysis=analysis)


def time_calls(fn: Callable[[], Any], steps: int, warmup: int = 1,
               device: Optional[str] = None) -> Dict[str, List[float]]:
    """Call ``fn`` ``warmup + steps`` times; wall and CPU seconds of the last ``steps`` calls.

    Args:
        fn (callable): The work to time (no arguments).
        steps (int): Timed calls.
        warmup (int): Untimed calls first.
        device (str, optional): Synchronise this CUDA device around each call.
    """
    wall, cpu = [], []
    for i in range(warmup + steps):
        if device is not None:
            _sync(device)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        fn()
        if device is not None:
            _sync(device)
        if i >= warmup:
            wall.append(time.perf_counter() - wall0)
            cpu.append(time.process_time() - cpu0)
    return dict(wall_s=wall, cpu_s=cpu)


def time_stats(times: Sequence[float]) -> Dict[str, float]:
    """Median, mean and minimum of a list of seconds."""
    return dict(median=statistics.median(times), mean=statistics.mean(times), min=min(times))


def peak_rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (``ru_maxrss``; Linux: KiB)."""
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ProcessTreeMemory:
    """Sample the largest resident set size over this process and its children (psutil).

    Use as a context manager; ``peak_mib`` holds the largest single-process RSS seen.

    Args:
        interval (float): Seconds between samples.
    """

    def __init__(self, interval: float = 0.05) -> None:
        import psutil
        self._psutil = psutil
        self.proc = psutil.Process()
        self.interval = interval
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            total = self.proc.memory_info().rss
            for child in self.proc.children(recursive=True):
                try:
                    total = max(total, child.memory_info().rss)
                except self._psutil.Error:
                    pass
            self.peak_mib = max(self.peak_mib, total / 2**20)
            time.sleep(self.interval)

    def __enter__(self) -> 'ProcessTreeMemory':
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


class ProcessTreeCpu:
    """CPU seconds of this process and its children, finished ones included (psutil).

    Calling the object returns the total user + system seconds seen so far; a child that has
    exited keeps the last value read for it.
    """

    def __init__(self) -> None:
        import psutil
        self._psutil = psutil
        self.proc = psutil.Process()
        self.seen: Dict[int, float] = {}

    def __call__(self) -> float:
        for p in [self.proc] + self.proc.children(recursive=True):
            try:
                t = p.cpu_times()
                self.seen[p.pid] = t.user + t.system
            except self._psutil.Error:
                pass
        return sum(self.seen.values())


def loadavg() -> Optional[List[float]]:
    """1, 5 and 15 minute load averages (None where the platform has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def _cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_flags() -> List[str]:
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    flags = set(line.split(':', 1)[1].split())
                    return sorted(f for f in flags if f in ('avx2', 'avx512f', 'amx_tile'))
    except OSError:
        pass
    return []


def machine_info() -> Dict[str, Any]:
    """What the numbers depend on: CPU model and cores, vector extensions, GPU, versions."""
    import torch
    info = dict(cpu=_cpu_model(), cpu_count=os.cpu_count(), cpu_flags=_cpu_flags(),
                arch=platform.machine(), python=platform.python_version(),
                torch=torch.__version__, torch_threads=torch.get_num_threads(),
                omp_wait_policy=os.environ.get('OMP_WAIT_POLICY', 'unset'))
    if torch.cuda.is_available():
        info['gpu'] = torch.cuda.get_device_name(0)
        info['gpu_count'] = torch.cuda.device_count()
    return info


def machine_name(info: Optional[Dict[str, Any]] = None) -> str:
    """A file-name label of the machine: ``<cpu model>-<n>cpu[-<gpu>]``, e.g.
    ``intel-xeon-platinum-8370c-2cpu``. ``HOLAFRAME_BENCH_MACHINE`` overrides it."""
    override = os.environ.get('HOLAFRAME_BENCH_MACHINE')
    if override:
        return re.sub(r'[^A-Za-z0-9._-]+', '-', override).strip('-')
    info = info or machine_info()
    cpu = re.sub(r'\([^)]*\)|\bCPU\b|@.*$', '', info['cpu'])
    parts = [cpu, f'{info["cpu_count"]}cpu'] + ([info['gpu']] if info.get('gpu') else [])
    slug = '-'.join(re.sub(r'[^a-z0-9]+', '-', p.lower()).strip('-') for p in parts)
    return re.sub(r'-+', '-', slug) or 'machine'
