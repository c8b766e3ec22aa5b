"""Multi-process DeepSpeed ZeRO-2 training, resume, consolidation and evaluation on CPU.

Every run goes through ``tools/dist_train.sh`` / ``tools/dist_test.sh`` (torchrun, 2 processes,
gloo) or ``tools/test.py`` (one process), exactly as a user would start them. The tiny HOLA
config (``configs/hola/hola-dense_tiny_1xb8-10min_synthetic.py``) with the
``configs/_base_/strategies/zero2.py`` base trains on the synthetic dataset; ``DistProbeHook``
(``holaframe.testing.distributed``) records data order, losses and exact state fingerprints.
"""

import json
import os
import pickle
import socket
import subprocess
import sys
from pathlib import Path
from typing import Optional

import pytest
import torch

from holaframe.testing.distributed import digest
from holaframe.testing.scripts import load_script

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow

HOLA_TINY = REPO / 'configs' / 'hola' / 'hola-dense_tiny_1xb8-10min_synthetic.py'
ZERO2 = REPO / 'configs' / '_base_' / 'strategies' / 'zero2.py'
RUNTIME = REPO / 'configs' / '_base_' / 'default_runtime.py'

# Deterministic windows (test_mode) so that the data of an iteration does not depend on the rank
# that loads it; 16 frames and a 48 x 48 mouth crop keep a step short on 2 CPU cores.
PIPELINE = """[
    dict(type='DecordInit'),
    dict(type='DenseSampleFrames', clip_len=16, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='MouthCrop', box=(0.25, 0.45, 0.75, 0.95), size=48),
    dict(type='AudioDecode', sample_rate=16000),
    dict(type='AudioFrameLogMel', n_mels=40, group=4),
    dict(type='FrameFakeMask'),
    dict(type='PackAVInputs'),
]"""

LOADER = """dict(batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=pipeline){extra})"""


def hola_zero2_config(path: Path, data_root: str, dump_file: Path) -> Path:
    """Write the tiny HOLA + ZeRO-2 test config (4 iterations, checkpoints at 2 and 4)."""
    path.write_text(f"""_base_ = [{str(HOLA_TINY)!r}, {str(ZERO2)!r}]
custom_imports = dict(imports=['holaframe.testing.distributed'], allow_failed_imports=False)
data_root = {data_root!r}
pipeline = {PIPELINE}
train_dataloader = {LOADER.format(extra='')}
# The val subset (labelled, 9 clips: an odd number) is the test set here.
test_dataloader = {LOADER.format(
        extra=", sampler=dict(type='DefaultSampler', shuffle=False)")}
test_dataloader['dataset'].update(type='AVDeepfake1MDataset', subset='val', test_mode=True)
test_evaluator = [dict(type='VideoMetric'),
                  dict(type='DumpResults', out_file_path={str(dump_file)!r})]
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=4)
val_dataloader = None
val_cfg = None
val_evaluator = None
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(_delete_=True, type='CheckpointHook', interval=2, by_epoch=False,
                    max_keep_ckpts=-1))
log_processor = dict(by_epoch=False)
custom_hooks = [dict(type='DistProbeHook')]
""")
    return path


def toy_zero2_config(path: Path, strategy: Optional[Path] = ZERO2) -> Path:
    """Write a ZeRO-2 (or ``strategy``; None: no strategy base) config of a LayerNorm MLP on
    in-memory clips."""
    bases = [str(RUNTIME)] + ([str(strategy)] if strategy else [])
    path.write_text(f"""_base_ = {bases!r}
custom_imports = dict(imports=['holaframe.testing.distributed'], allow_failed_imports=False)
model = dict(type='DistToyDetector', data_preprocessor=dict(type='AVDataPreprocessor'))
train_dataloader = dict(batch_size=2, num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='DistToyDataset', num_samples=10), collate_fn=dict(type='pseudo_collate'))
train_cfg = dict(type='IterBasedTrainLoop', max_iters=1)
optim_wrapper = dict(type='OptimWrapper', clip_grad=dict(max_norm=1.0),
    optimizer=dict(type='AdamW', lr=1e-2, weight_decay=0.01))
param_scheduler = []
default_hooks = dict(checkpoint=dict(interval=1000, by_epoch=False), logger=dict(interval=1))
log_processor = dict(by_epoch=False)
custom_hooks = [dict(type='DistProbeHook')]
""")
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def run_tool(*args: str, timeout: int = 400) -> str:
    """Run a repo tool (``.sh`` with bash, ``.py`` with this Python); fail with its output."""
    env = dict(os.environ, OMP_NUM_THREADS='1', PORT=str(_free_port()))
    tool = str(REPO / args[0])
    cmd = ['bash', tool] if tool.endswith('.sh') else [sys.executable, tool]
    proc = subprocess.run(cmd + list(args[1:]), cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, f'{" ".join(args)} failed ({proc.returncode}):\n{out[-6000:]}'
    return out


def probes(work_dir: Path, world_size: int = 2) -> list:
    return [json.loads((work_dir / f'probe_rank{r}.json').read_text()) for r in range(world_size)]


def load_converter():
    path = REPO / 'tools' / 'model_converters' / 'zero2holaframe.py'
    return load_script(path, 'zero2holaframe')


@pytest.fixture(scope='module')
def zero2_runs(tmp_path_factory, synthetic_avdf_root):
    """Run A: 4 iterations from scratch; run B: resume A's iteration-2 checkpoint up to 4."""
    tmp = tmp_path_factory.mktemp('zero2')
    cfg = hola_zero2_config(tmp / 'hola_zero2.py', synthetic_avdf_root, tmp / 'preds_1proc.pkl')
    cfg2 = hola_zero2_config(tmp / 'hola_zero2_dist.py', synthetic_avdf_root,
                             tmp / 'preds_2proc.pkl')
    run_a, run_b = tmp / 'A', tmp / 'B'
    run_tool('tools/dist_train.sh', str(cfg), '2', '--work-dir', str(run_a))
    run_tool('tools/dist_train.sh', str(cfg), '2', '--work-dir', str(run_b), '--resume',
             str(run_a / 'iter_2.pth'))
    return dict(tmp=tmp, cfg=cfg, cfg2=cfg2, A=run_a, B=run_b)


@pytest.fixture(scope='module')
def consolidated(zero2_runs):
    out = zero2_runs['tmp'] / 'hola_tiny_consolidated.pth'
    load_converter().convert(str(zero2_runs['A'] / 'iter_4.pth'), str(out))
    return out


@pytest.fixture(scope='module')
def single_process_eval(zero2_runs, consolidated):
    work = zero2_runs['tmp'] / 'test_1proc'
    run_tool('tools/test.py', str(zero2_runs['cfg']), str(consolidated), '--work-dir', str(work))
    metrics = json.loads((work / 'metrics.json').read_text())
    with open(zero2_runs['tmp'] / 'preds_1proc.pkl', 'rb') as f:
        preds = pickle.load(f)
    return metrics, preds


def test_zero2_checkpoints_are_sharded_per_rank(zero2_runs):
    for tag in ('iter_2.pth', 'iter_4.pth'):
        ckpt = zero2_runs['A'] / tag
        assert ckpt.is_dir(), f'{tag} should be a DeepSpeed checkpoint directory'
        assert (ckpt / 'mp_rank_00_model_states.pt').is_file()
        shards = sorted(p.name for p in ckpt.glob('*optim_states.pt'))
        assert len(shards) == 2, shards  # one optimizer partition per rank (ZeRO)


def test_resume_restores_state_and_data_order(zero2_runs):
    run_a, run_b = probes(zero2_runs['A']), probes(zero2_runs['B'])
    for rank, (a, b) in enumerate(zip(run_a, run_b)):
        assert [it['iter'] for it in a['iters']] == [0, 1, 2, 3]
        assert b['start']['iter'] == 2, f'rank {rank} did not resume at iteration 2'
        # Model (parameters + buffers) and this rank's optimizer partition (fp32 weights, Adam
        # moments, step, lr) right after --resume equal run A's before its 3rd iteration.
        assert b['start'] == a['states']['2'], f'rank {rank}: resumed state differs'
        # The same clips in the same order on every rank after resuming.
        assert [it['files'] for it in b['iters']] == [it['files'] for it in a['iters'][2:]]
        assert b['end'] == a['end'], f'rank {rank}: final state differs from the uninterrupted run'
        assert all(torch.isfinite(torch.tensor(it['loss'])) for it in a['iters'])
    # Data parallelism: the two ranks see different clips in an iteration.
    assert set(run_a[0]['iters'][0]['files']).isdisjoint(run_a[1]['iters'][0]['files'])


def test_consolidated_checkpoint_equals_trained_model(zero2_runs, consolidated):
    ckpt = torch.load(consolidated, map_location='cpu', weights_only=True)
    assert set(ckpt) == {'state_dict', 'meta'}
    assert ckpt['meta']['iter'] == 4 and ckpt['meta']['zero_stage'] == 2
    state = ckpt['state_dict']
    assert all(v.dtype != torch.float16 for v in state.values())
    # Bit-identical to the live model of rank 0 at the end of training (parameters + buffers).
    assert digest(state[k] for k in sorted(state)) == probes(zero2_runs['A'])[0]['end']['model']


def test_consolidated_checkpoint_evaluates_in_one_process(zero2_runs, single_process_eval):
    metrics, preds = single_process_eval
    # tools/test.py loaded the plain file into the (stage-0) DeepSpeed engine: the evaluated
    # model is exactly the trained one.
    evaluated = json.loads((zero2_runs['tmp'] / 'test_1proc' / 'probe_test_rank0.json').read_text())
    assert evaluated['model'] == probes(zero2_runs['A'])[0]['end']['model']
    assert metrics['video/num_clips'] == 9
    assert 0.0 <= metrics['video/auc'] <= 1.0
    assert len(preds) == 9


def test_two_rank_eval_of_odd_video_count_counts_each_once(zero2_runs, consolidated,
                                                            single_process_eval):
    metrics_1, preds_1 = single_process_eval
    work = zero2_runs['tmp'] / 'test_2proc'
    run_tool('tools/dist_test.sh', str(zero2_runs['cfg2']), str(consolidated), '2',
             '--work-dir', str(work))
    metrics_2 = json.loads((work / 'metrics.json').read_text())
    trained = probes(zero2_runs['A'])[0]['end']['model']
    for rank in range(2):
        evaluated = json.loads((work / f'probe_test_rank{rank}.json').read_text())
        assert evaluated['model'] == trained, f'rank {rank} evaluated other weights'
    with open(zero2_runs['tmp'] / 'preds_2proc.pkl', 'rb') as f:
        preds_2 = pickle.load(f)
    files_2 = [p['file'] for p in preds_2]
    # 9 clips on 2 ranks: the sampler pads rank 1 with a repeat; exactly one prediction per clip
    # survives the collection.
    assert len(files_2) == len(set(files_2)) == 9
    assert sorted(files_2) == sorted(p['file'] for p in preds_1)
    scores_1 = {p['file']: float(p['pred_score']) for p in preds_1}
    for p in preds_2:
        assert abs(float(p['pred_score']) - scores_1[p['file']]) < 1e-5, p['file']
    assert set(metrics_2) == set(metrics_1)
    for key, value in metrics_1.items():
        assert metrics_2[key] == pytest.approx(value, abs=1e-6), key


def test_first_step_loss_two_ranks_equals_one_rank_double_batch(tmp_path):
    """2 ranks x batch 2 vs 1 rank x batch 4: same clips, same seed, same first-step loss.

    The tiny HOLA model normalises with BatchNorm, whose statistics are per rank under data
    parallelism on CPU (torch's SyncBatchNorm is GPU-only), so this uses a LayerNorm model.
    """
    cfg = toy_zero2_config(tmp_path / 'toy_zero2.py')
    run_tool('tools/dist_train.sh', str(cfg), '2', '--work-dir', str(tmp_path / 'r2'))
    run_tool('tools/dist_train.sh', str(cfg), '1', '--work-dir', str(tmp_path / 'r1'),
             '--cfg-options', 'train_dataloader.batch_size=4')
    two = probes(tmp_path / 'r2')
    (one, ) = probes(tmp_path / 'r1', world_size=1)
    files_two = two[0]['iters'][0]['files'] + two[1]['iters'][0]['files']
    assert sorted(files_two) == sorted(one['iters'][0]['files'])
    # The logged loss is the mean over ranks (HolaDeepSpeedEngineWrapper.reduce_log_vars).
    assert two[0]['iters'][0]['loss'] == two[1]['iters'][0]['loss']
    assert abs(two[0]['iters'][0]['loss'] - one['iters'][0]['loss']) < 1e-5


@pytest.mark.parametrize('strategy', ['ddp.py', None])
def test_plain_ddp_two_ranks_on_cpu(tmp_path, strategy):
    """DDP trains with 2 gloo processes (no torch.cuda call on CPU), with the ddp strategy base
    and without any strategy base (as the paper configs are)."""
    base = REPO / 'configs' / '_base_' / 'strategies' / strategy if strategy else None
    cfg = toy_zero2_config(tmp_path / 'toy_ddp.py', strategy=base)
    run_tool('tools/dist_train.sh', str(cfg), '2', '--work-dir', str(tmp_path / 'ddp'),
             '--cfg-options', 'train_cfg.max_iters=2')
    rank0, rank1 = probes(tmp_path / 'ddp')
    # DDP averages gradients, so both replicas end with identical weights.
    assert rank0['end']['model'] == rank1['end']['model']
    files = rank0['iters'][0]['files'] + rank1['iters'][0]['files']
    assert len(set(files)) == len(files) == 4  # each rank saw its own half of the batch
