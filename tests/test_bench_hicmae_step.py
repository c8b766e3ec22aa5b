"""benchmarks/bench_hicmae_step.py without the reference HiCMAE code.

The argument handling is checked as it is; the timing, ratio and JSON path runs against a
stand-in ``modeling_pretrain_av`` written into ``tmp_path``: it exposes HiCMAE's constructor
names and call signature (``model(video, mask, audio, mask_audio)`` -> reconstructions and
contrastive logits) and wraps holaframe's own pre-trainer at a tiny size, so its parameter count
is the one the benchmark must find equal.
"""

import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: A size small enough for a test: 1 encoder block, 1 fusion layer, 2 decoder blocks, 64 px.
TEST_SIZE = dict(
    constructor='pretrain_hicmae_dim384_patch16_160_a256',
    kwargs=dict(encoder_depth=1, decoder_depth=2, encoder_depth_audio=1, decoder_depth_audio=2,
                encoder_fusion_depth=1, return_intermediate_features=(0,)),
    shape=dict(embed_dim=32, num_heads=2, decoder_embed_dim=16, decoder_num_heads=2,
               img_size=64),
    batch=2)

STAND_IN = '''\
"""Stand-in for HiCMAE's modeling_pretrain_av: holaframe's pre-trainer behind its signature."""
import torch
from timm.models.layers import trunc_normal_  # noqa: F401  (as the reference imports it)
from timm.models.registry import register_model
from torch import nn

from holaframe.registry import MODELS

CFG = {cfg!r}
EXTRA = {extra!r}
CALLS = []


class PretrainAudioVisionTransformer(nn.Module):

    def __init__(self, **kwargs):
        super().__init__()
        self.inner = MODELS.build(CFG)
        self.extra = nn.Parameter(torch.zeros(EXTRA)) if EXTRA else None

    def forward(self, x, mask, x_audio, mask_audio):
        out = self.inner(dict(video=x, audio=x_audio, video_mask=mask, audio_mask=mask_audio),
                         mode='tensor')
        return (out['video_recon'], out['audio_recon'], out['logits_per_video'],
                out['logits_per_audio'])


@register_model
def pretrain_hicmae_dim384_patch16_160_a256(pretrained=False, **kwargs):
    CALLS.append(dict(kwargs, pretrained=pretrained))
    return PretrainAudioVisionTransformer(**kwargs)
'''


@pytest.fixture
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(REPO / 'benchmarks'))
    monkeypatch.delenv('HOLAFRAME_HICMAE_DIR', raising=False)
    import bench_hicmae_step
    monkeypatch.setitem(bench_hicmae_step.SIZES, 'test', TEST_SIZE)
    yield bench_hicmae_step
    for name in ('modeling_pretrain_av', 'modeling_finetune_av'):
        sys.modules.pop(name, None)


def _stand_in(bench, folder: Path, extra: int = 0) -> Path:
    from holaframe.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    folder.mkdir(parents=True, exist_ok=True)
    cfg = bench.holaframe_cfg(TEST_SIZE, dual=False)
    (folder / 'modeling_pretrain_av.py').write_text(STAND_IN.format(cfg=cfg, extra=extra))
    return folder


def test_no_reference_gives_instructions_and_status_2(bench, tmp_path, capsys):
    out = tmp_path / 'r.json'
    assert bench.main(['--out', str(out)]) == 2
    err = capsys.readouterr().err
    assert '--hicmae-dir' in err and '--fetch' in err and bench.HICMAE_URL in err
    assert bench.main(['--hicmae-dir', str(tmp_path), '--out', str(out)]) == 2
    assert 'modeling_pretrain_av.py' in capsys.readouterr().err
    assert bench.main(['--hicmae-dir', str(tmp_path), '--fetch', '--out', str(out)]) == 2
    assert 'not both' in capsys.readouterr().err
    assert not out.exists()


def test_script_without_reference_exits_2_with_message(tmp_path):
    import subprocess
    env = {k: v for k, v in os.environ.items() if k != 'HOLAFRAME_HICMAE_DIR'}
    proc = subprocess.run([sys.executable, str(REPO / 'benchmarks' / 'bench_hicmae_step.py'),
                           '--out', str(tmp_path / 'r.json')], capture_output=True, text=True,
                          env=dict(env, OMP_NUM_THREADS='1'), cwd=REPO, timeout=120)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert 'git clone https://github.com/sunlicai/HiCMAE' in proc.stderr


def test_stand_in_reference_runs_and_writes_ratios(bench, tmp_path, capsys):
    ref_dir = _stand_in(bench, tmp_path / 'HiCMAE')
    out = tmp_path / 'report.json'
    rc = bench.main(['--hicmae-dir', str(ref_dir), '--size', 'test', '--steps', '3',
                     '--warmup', '1', '--threads', '1', '--out', str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed[-3000:]
    calls = sys.modules['modeling_pretrain_av'].CALLS
    assert calls == [dict(TEST_SIZE['kwargs'], pretrained=False, drop_path_rate=0.0,
                          inter_contrastive_temperature=0.07)]
    report = json.loads(out.read_text())
    models = report['models']
    assert list(models) == ['reference', 'holaframe', 'holaframe-dual']
    params = {m['params'] for m in models.values()}
    assert len(params) == 1 and params.pop() > 0
    for m in models.values():
        assert len(m['step_wall_s']) == 3 and len(m['step_cpu_s']) == 3
        assert all(t > 0 for t in m['step_wall_s'])
    # The stand-in is holaframe's model without decoder masks: the same forward FLOPs; dual
    # masking decodes half of the masked tokens, so fewer.
    flops = {k: m['forward_gflops'] for k, m in models.items()}
    assert flops['reference'] == pytest.approx(flops['holaframe'], rel=1e-6)
    assert flops['holaframe-dual'] < 0.9 * flops['holaframe']
    nd, dm = report['no_dual_masking'], report['dual_masking']
    ref, plain, dual = (models[k]['step_wall_s'] for k in ('reference', 'holaframe',
                                                           'holaframe-dual'))
    assert nd['ratio'] == pytest.approx(bench.paired_ratio(plain, ref))
    assert dm['speedup'] == pytest.approx(bench.paired_ratio(ref, dual))
    assert nd['met'] == (nd['ratio'] <= 1.0) and dm['met'] == (dm['speedup'] >= 1.5)
    assert report['batch_size'] == 2 and report['threads'] == 1
    assert report['video_tokens'] == 8 * 4 * 4 and report['video_visible'] == 8 * 2
    assert report['reference']['source'] == 'dir' and report['reference']['commit'] is None
    assert len(report['loadavg_before']) == 3 and report['cpu_s'] > 0
    assert 'target <= 1' in printed and 'target >= 1.5x' in printed
    assert f'{models["reference"]["params"]:,}' in printed
    rows = bench.summarize(report)
    assert [r['model'] for r in rows] == ['reference', 'holaframe', 'holaframe-dual']
    assert 'met' in rows[1]['vs reference'] and 'x' in rows[2]['vs reference']


def test_different_sizes_are_refused(bench, tmp_path, capsys):
    ref_dir = _stand_in(bench, tmp_path / 'HiCMAE', extra=10_000)
    out = tmp_path / 'report.json'
    rc = bench.main(['--hicmae-dir', str(ref_dir), '--size', 'test', '--no-flops',
                     '--steps', '1', '--warmup', '0', '--threads', '1', '--out', str(out)])
    assert rc == 3
    assert 'not the same size' in capsys.readouterr().err
    assert not out.exists()


def test_fetch_clones_into_a_temporary_folder_and_removes_it(bench, tmp_path, monkeypatch):
    source = _stand_in(bench, tmp_path / 'source', extra=10_000)
    clones = []

    def fake_run(cmd, **kwargs):
        import shutil
        import subprocess
        if cmd[:2] == ['git', 'clone']:
            assert bench.HICMAE_URL in cmd
            clones.append(Path(cmd[-1]))
            shutil.copytree(source, cmd[-1])
            return subprocess.CompletedProcess(cmd, 0, '', '')
        return subprocess.CompletedProcess(cmd, 128, '', 'not a git repository')

    monkeypatch.setattr(bench.subprocess, 'run', fake_run)
    rc = bench.main(['--fetch', '--size', 'test', '--no-flops', '--threads', '1',
                     '--out', str(tmp_path / 'r.json')])
    assert rc == 3  # the stand-in was imported from the clone (its size is off on purpose)
    assert len(clones) == 1 and not clones[0].exists() and not clones[0].parent.exists()


def test_failed_fetch_is_reported_and_cleaned_up(bench, tmp_path, monkeypatch, capsys):
    import subprocess
    clones = []

    def fake_run(cmd, **kwargs):
        clones.append(Path(cmd[-1]))
        return subprocess.CompletedProcess(cmd, 128, '', 'fatal: unable to access')

    monkeypatch.setattr(bench.subprocess, 'run', fake_run)
    rc = bench.main(['--fetch', '--size', 'test', '--out', str(tmp_path / 'r.json')])
    assert rc == 2 and 'unable to access' in capsys.readouterr().err
    assert len(clones) == 1 and not clones[0].parent.exists()


def test_compare_uses_per_round_ratios():
    sys.path.insert(0, str(REPO / 'benchmarks'))
    try:
        import bench_hicmae_step as bench
    finally:
        sys.path.remove(str(REPO / 'benchmarks'))

    class Fake:
        def __init__(self, wall, cpu):
            self.wall, self.cpu = wall, cpu

    steppers = {'reference': Fake([1.0, 2.0, 4.0], [1.0, 1.0, 1.0]),
                'holaframe': Fake([0.9, 2.2, 3.6], [0.8, 0.9, 1.2]),
                'holaframe-dual': Fake([0.5, 1.0, 3.0], [0.6, 0.7, 0.6])}
    ratios = bench.compare(steppers)
    nd, dm = ratios['no_dual_masking'], ratios['dual_masking']
    assert nd['ratio'] == pytest.approx(0.9) and nd['met']  # 0.9, 1.1, 0.9
    assert nd['ratio_cpu'] == pytest.approx(0.9) and nd['met_cpu']
    assert dm['speedup'] == pytest.approx(2.0) and dm['met']  # 2, 2, 1.33
    assert dm['speedup_cpu'] == pytest.approx(1 / 0.6) and dm['met_cpu']
    assert dm['ratio'] == pytest.approx(0.5)
    steppers['holaframe'].wall = [1.2, 2.2, 4.4]
    steppers['holaframe-dual'].wall = [0.8, 1.6, 3.0]
    ratios = bench.compare(steppers)
    assert not ratios['no_dual_masking']['met'] and not ratios['dual_masking']['met']


def test_registered_in_the_suite_only_when_named():
    from holaframe.testing.scripts import load_script
    sys.path.insert(0, str(REPO / 'benchmarks'))
    try:
        run = load_script(REPO / 'benchmarks' / 'run.py', 'bench_run')
    finally:
        sys.path.remove(str(REPO / 'benchmarks'))
    entry = run.BENCHMARKS['hicmae_step']
    assert entry['script'] == 'bench_hicmae_step.py' and entry['default'] is False
    assert '--size' in entry['quick'] and 'tiny' in entry['quick']
    assert '`hicmae_step`' in (REPO / 'benchmarks' / 'README.md').read_text()


def test_timm_stand_in_when_timm_cannot_be_imported(monkeypatch):
    import torch

    from holaframe.testing.reference_code import TIMM_STAND_IN, ensure_timm
    saved = {n: m for n, m in sys.modules.items() if n == 'timm' or n.startswith('timm.')}
    monkeypatch.setitem(sys.modules, 'timm', None)  # `import timm` raises ImportError
    try:
        assert ensure_timm() == TIMM_STAND_IN
        from timm.models.layers import drop_path, to_2tuple, trunc_normal_
        from timm.models.registry import register_model
        assert to_2tuple(3) == (3, 3) and to_2tuple([4, 5]) == (4, 5)
        assert register_model(len) is len
        x = torch.ones(4, 3)
        assert drop_path(x, 0.5, training=False) is x
        torch.manual_seed(0)
        kept = drop_path(torch.ones(1000, 2), 0.5, training=True)
        assert set(kept.unique().tolist()) == {0.0, 2.0}  # dropped rows, survivors scaled 1/keep
        w = trunc_normal_(torch.empty(1000), std=0.02, a=-0.02, b=0.02)
        assert w.abs().max() <= 0.02 and w.std() > 0.005
        assert ensure_timm() == TIMM_STAND_IN  # the stand-in stays usable
    finally:
        for name in [n for n in sys.modules if n == 'timm' or n.startswith('timm.')]:
            del sys.modules[name]
        sys.modules.update(saved)
