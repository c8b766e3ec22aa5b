"""Process-group start-up that works on CPU-only machines (gloo) and GPUs (NCCL).

MMEngine 0.10.7's ``init_dist`` calls ``torch.cuda.set_device`` for every launcher, which raises
on a CPU-only PyTorch build. :func:`init_dist_env` does the same job without that call when CUDA
is unavailable. The plain ``Runner`` (DDP) skips its own ``init_dist`` when a process group
already exists, so calling :func:`init_dist_env` before ``Runner.from_cfg`` makes DDP configs run
on CPU; ``HolaDeepSpeedStrategy`` uses the same environment helpers.
"""

import datetime
import os
import subprocess
from typing import Optional

import torch
import torch.distributed as torch_dist

__all__ = ['default_dist_backend', 'slurm_to_torch_env', 'mpi_to_torch_env', 'init_dist_env',
           'close_dist_env']

_TORCH_ENV = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT')


def default_dist_backend(backend: Optional[str] = None) -> str:
    """The backend to use: NCCL with CUDA, gloo without; ``nccl`` without CUDA becomes gloo.

    Args:
        backend (str, optional): Requested backend (``nccl``, ``gloo``, ``mpi``) or None.
    """
    if not backend:
        return 'nccl' if torch.cuda.is_available() else 'gloo'
    if backend == 'nccl' and not torch.cuda.is_available():
        return 'gloo'
    return backend


def slurm_to_torch_env(port: Optional[int] = None) -> None:
    """Translate Slurm's variables into torchrun's (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_*).

    Args:
        port (int, optional): Master port; else ``MASTER_PORT`` or 29500.
    """
    proc_id = int(os.environ['SLURM_PROCID'])
    ntasks = int(os.environ['SLURM_NTASKS'])
    local_rank = os.environ.get('SLURM_LOCALID')
    if local_rank is None:
        per_node = torch.cuda.device_count() if torch.cuda.is_available() else 1
        local_rank = str(proc_id % max(per_node, 1))
    if port is not None:
        os.environ['MASTER_PORT'] = str(port)
    os.environ.setdefault('MASTER_PORT', '29500')
    if 'MASTER_ADDR' not in os.environ:
        node_list = os.environ['SLURM_NODELIST']
        os.environ['MASTER_ADDR'] = subprocess.getoutput(
            f'scontrol show hostname {node_list} | head -n1')
    os.environ['WORLD_SIZE'] = str(ntasks)
    os.environ['LOCAL_RANK'] = str(local_rank)
    os.environ['RANK'] = str(proc_id)


def mpi_to_torch_env() -> None:
    """Translate OpenMPI's variables into torchrun's (``MASTER_ADDR`` must be set)."""
    if 'MASTER_ADDR' not in os.environ:
        raise KeyError('dist_env.py: launcher mpi needs MASTER_ADDR in the environment')
    os.environ.setdefault('MASTER_PORT', '29500')
    os.environ['WORLD_SIZE'] = os.environ['OMPI_COMM_WORLD_SIZE']
    os.environ['RANK'] = os.environ['OMPI_COMM_WORLD_RANK']
    os.environ['LOCAL_RANK'] = os.environ['OMPI_COMM_WORLD_LOCAL_RANK']


def prepare_launcher_env(launcher: str, port: Optional[int] = None) -> None:
    """Fill torchrun's environment variables for ``launcher`` and check they are complete.

    Args:
        launcher (str): ``pytorch`` (torchrun), ``slurm`` or ``mpi``.
        port (int, optional): Master port for ``slurm``.
    """
    if launcher == 'slurm':
        slurm_to_torch_env(port)
    elif launcher == 'mpi':
        mpi_to_torch_env()
    elif launcher != 'pytorch':
        raise ValueError(f'dist_env.py: unsupported launcher {launcher!r}; use pytorch '
                         '(torchrun, tools/dist_train.sh), slurm or mpi')
    missing = [k for k in _TORCH_ENV if k not in os.environ]
    if missing:
        raise RuntimeError(f'dist_env.py: launcher {launcher!r} but environment variables '
                           f'{missing} are not set; start with tools/dist_train.sh')


def init_dist_env(launcher: str, backend: Optional[str] = None, **kwargs) -> str:
    """Start the default process group for ``launcher`` (no-op if one exists).

    Selects ``cuda:LOCAL_RANK`` only when CUDA is available.

    Args:
        launcher (str): ``pytorch``, ``slurm`` or ``mpi``.
        backend (str, optional): See :func:`default_dist_backend`.
        **kwargs: ``timeout`` (seconds), ``port`` (slurm) and other arguments of
            :func:`torch.distributed.init_process_group`.

    Returns:
        str: The backend in use.
    """
    if torch_dist.is_initialized():
        return torch_dist.get_backend()
    backend = default_dist_backend(backend)
    prepare_launcher_env(launcher, kwargs.pop('port', None))
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ['LOCAL_RANK']))
    timeout = kwargs.pop('timeout', None)
    if timeout is not None and not isinstance(timeout, datetime.timedelta):
        kwargs['timeout'] = datetime.timedelta(seconds=timeout)
    torch_dist.init_process_group(backend=backend, **kwargs)
    return backend


def close_dist_env() -> None:
    """Wait for every rank, then destroy the default process group (no-op without one).

    Called at the end of ``tools/train.py``: without it, each process tears its gloo/NCCL
    group down at interpreter exit in no particular order, and a rank whose peer has already
    closed its sockets can abort (SIGABRT) after a finished run.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()
