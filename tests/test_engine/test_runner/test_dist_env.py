"""Launcher environment translation, backend choice and closing a one-rank gloo group."""

import os

import pytest
import torch

from holaframe.engine.runner import dist_env


@pytest.fixture
def clean_env(monkeypatch):
    """No torchrun variables during the test; the whole environment is restored afterwards
    (the functions under test write os.environ directly)."""
    saved = dict(os.environ)
    for key in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(key, raising=False)
    yield monkeypatch
    os.environ.clear()
    os.environ.update(saved)


def test_default_backend():
    expected = 'nccl' if torch.cuda.is_available() else 'gloo'
    assert dist_env.default_dist_backend() == expected
    assert dist_env.default_dist_backend('gloo') == 'gloo'
    assert dist_env.default_dist_backend('nccl') == expected


def test_slurm_env(clean_env):
    clean_env.setenv('SLURM_PROCID', '5')
    clean_env.setenv('SLURM_NTASKS', '8')
    clean_env.setenv('SLURM_LOCALID', '1')
    clean_env.setenv('SLURM_NODELIST', 'node[1-2]')
    clean_env.setenv('MASTER_ADDR', 'node1')  # else read with scontrol
    dist_env.prepare_launcher_env('slurm', port=29123)
    assert (os.environ['RANK'], os.environ['WORLD_SIZE'], os.environ['LOCAL_RANK']) == ('5', '8',
                                                                                         '1')
    assert (os.environ['MASTER_ADDR'], os.environ['MASTER_PORT']) == ('node1', '29123')


def test_mpi_env(clean_env):
    clean_env.setenv('OMPI_COMM_WORLD_SIZE', '4')
    clean_env.setenv('OMPI_COMM_WORLD_RANK', '3')
    clean_env.setenv('OMPI_COMM_WORLD_LOCAL_RANK', '1')
    with pytest.raises(KeyError, match='MASTER_ADDR'):
        dist_env.prepare_launcher_env('mpi')
    clean_env.setenv('MASTER_ADDR', '10.0.0.1')
    dist_env.prepare_launcher_env('mpi')
    assert (os.environ['RANK'], os.environ['WORLD_SIZE'], os.environ['LOCAL_RANK'],
            os.environ['MASTER_PORT']) == ('3', '4', '1', '29500')


def test_pytorch_launcher_needs_torchrun_env(clean_env):
    with pytest.raises(RuntimeError, match='start with tools/dist_train.sh'):
        dist_env.prepare_launcher_env('pytorch')
    with pytest.raises(ValueError, match='unsupported launcher'):
        dist_env.prepare_launcher_env('none')


def test_close_dist_env_destroys_the_group_and_is_a_no_op_without_one(tmp_path):
    import torch.distributed as dist

    from holaframe.engine.runner import close_dist_env
    close_dist_env()  # no group: nothing to do
    dist.init_process_group('gloo', init_method=f'file://{tmp_path / "store"}', rank=0,
                            world_size=1)
    assert dist.is_initialized()
    close_dist_env()
    assert not dist.is_initialized()
