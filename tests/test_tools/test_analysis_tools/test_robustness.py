"""tools/analysis_tools/robustness.py on the tiny detector: tables, heatmap, resumption, bad
names and levels, a clip whose perturbation fails."""

import json
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from holaframe.datasets.transforms.perturbations import VideoGaussianBlur
from holaframe.testing import tiny_pipeline, write_tiny_detector
from holaframe.testing.scripts import load_script

REPO = Path(__file__).resolve().parents[3]
TOOL = REPO / 'tools' / 'analysis_tools' / 'robustness.py'


@pytest.fixture(scope='module')
def tool():
    """The tool as a module (its functions can be wrapped)."""
    return load_script(TOOL, 'robustness_tool')


@pytest.fixture
def tiny(tmp_path, synthetic_avdf_root):
    return write_tiny_detector(str(tmp_path), synthetic_avdf_root, 'val')


def _run(tool, tiny, work, *extra):
    cfg, ckpt = tiny
    return tool.main([cfg, ckpt, '--split', 'test', '--work-dir', str(work), *extra])


def test_grid_writes_tables_and_heatmap_and_resumes(tool, tiny, tmp_path, monkeypatch):
    work = tmp_path / 'grid'
    calls = []
    run_cell = tool.run_cell

    def counting(runner, cell, first):
        pipeline = [t['type'] for t in cell.test_dataloader.dataset.pipeline]
        calls.append(pipeline)
        return run_cell(runner, cell, first)

    monkeypatch.setattr(tool, 'run_cell', counting)
    assert _run(tool, tiny, work, '--perturb', 'gaussian_blur', 'audio_noise',
                '--levels', '1') == 0
    # Clean, then each perturbation right after its decoder.
    assert len(calls) == 3 and 'VideoGaussianBlur' not in calls[0]
    assert calls[1][calls[1].index('DecordDecode') + 1] == 'VideoGaussianBlur'
    assert calls[2][calls[2].index('AudioDecode') + 1] == 'AudioGaussianNoise'
    state = json.loads((work / 'robustness.json').read_text())
    assert set(state['cells']) == {'clean', 'gaussian_blur/1', 'audio_noise/1'}
    for cell in state['cells'].values():
        assert 0.0 <= cell['auc'] <= 1.0 and 0.0 <= cell['acc'] <= 100.0
        assert cell['num_clips'] == 9 and cell['num_failed'] == 0
    assert state['summary']['auc']['rows']['gaussian_blur']['mean'] == pytest.approx(
        state['cells']['gaussian_blur/1']['auc'])
    md = (work / 'robustness.md').read_text()
    assert '## AUC' in md and '## ACC (%)' in md
    assert '| gaussian_blur | kernel size (sigma = size / 6): 7 |' in md
    assert '| audio_noise | SNR (dB): 40 |' in md
    assert (work / 'robustness_heatmap.png').read_bytes()[:4] == b'\x89PNG'
    assert (work / 'errors.jsonl').read_text() == ''

    # A rerun with one more perturbation evaluates only the new cell; finished ones are kept.
    finished = {k: c['finished'] for k, c in state['cells'].items()}
    calls.clear()
    assert _run(tool, tiny, work, '--perturb', 'gaussian_blur', 'audio_noise', 'jpeg',
                '--levels', '1') == 0
    assert len(calls) == 1 and 'VideoJPEGCompression' in calls[0]
    state = json.loads((work / 'robustness.json').read_text())
    assert {k: state['cells'][k]['finished'] for k in finished} == finished
    assert '| jpeg | down-sampling factor: 2 |' in (work / 'robustness.md').read_text()
    calls.clear()
    assert _run(tool, tiny, work, '--perturb', 'jpeg', '--levels', '1') == 0 and calls == []
    # Other settings are refused instead of mixed in.
    with pytest.raises(SystemExit, match='other settings \\(seed\\)'):
        _run(tool, tiny, work, '--perturb', 'jpeg', '--levels', '1', '--seed', '5')


def test_a_clip_whose_perturbation_fails_is_reported_and_the_run_goes_on(
        tool, tiny, tmp_path, monkeypatch, synthetic_avdf_root):
    meta = json.loads((Path(synthetic_avdf_root) / 'val_metadata.json').read_text())
    victim = meta[2]['file']
    perturb = VideoGaussianBlur.perturb

    def failing(self, data, results, rng):
        if results.get('file') == victim:
            raise RuntimeError('simulated encoder crash')
        return perturb(self, data, results, rng)

    monkeypatch.setattr(VideoGaussianBlur, 'perturb', failing)
    work = tmp_path / 'fail'
    assert _run(tool, tiny, work, '--perturb', 'gaussian_blur', '--levels', '1,2',
                '--no-clean') == 3
    errors = [json.loads(line) for line in (work / 'errors.jsonl').read_text().splitlines()]
    assert [e['cell'] for e in errors] == ['gaussian_blur/1', 'gaussian_blur/2']
    assert all(e['file'] == victim and 'simulated encoder crash' in e['error'] and
               'gaussian_blur level' in e['error'] for e in errors)
    state = json.loads((work / 'robustness.json').read_text())
    for key in ('gaussian_blur/1', 'gaussian_blur/2'):
        assert state['cells'][key]['num_failed'] == 1
        assert state['cells'][key]['num_clips'] == 8  # the other clips are scored
    assert '| gaussian_blur/1 | 1 |' in (work / 'robustness.md').read_text()


@pytest.mark.parametrize('args,message', [
    (['--perturb', 'blurr'], 'unknown perturbation(s) [\'blurr\']; valid names: '
     'color_saturation, color_contrast, block_occlusion, gaussian_noise, gaussian_blur, jpeg, '
     'h264, audio_noise, pitch_shift, reverb, mp3'),
    (['--levels', '0-3'], 'level(s) [0] outside 1..5: levels are integers 1..5'),
    (['--levels', '6'], 'level(s) [6] outside 1..5'),
])
def test_bad_arguments_give_a_clear_message(tool, tmp_path, capsys, args, message):
    assert tool.main(['cfg.py', 'ckpt.pth', '--work-dir', str(tmp_path), *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / 'robustness.json').exists()


def test_track2_needs_a_localisation_metric(tool, tiny, tmp_path, capsys):
    assert _run(tool, tiny, tmp_path / 'work', '--track2', '--perturb', 'jpeg',
                '--levels', '1') == 2
    err = capsys.readouterr().err
    assert 'has no LocalizationMetric' in err and 'VideoMetric' in err
    assert not (tmp_path / 'work' / 'robustness.json').exists()


def test_track2_score_table_and_heatmap(tool, tmp_path, synthetic_avdf_root):
    """A detector that answers each video's annotated segments shifted by 40 ms: its Track 2
    Score does not depend on the perturbation, so every cell must report the clean value."""
    cfg = Config(dict(
        default_scope='holaframe',
        custom_imports=dict(imports=['holaframe.testing.segment_oracle_detector'],
                            allow_failed_imports=False),
        model=dict(type='SegmentOracleDetector', shift=0.04),
        test_dataloader=dict(batch_size=2, num_workers=0,
                             sampler=dict(type='DefaultSampler', shuffle=False),
                             dataset=dict(type='AVDeepfake1MDataset',
                                          data_root=synthetic_avdf_root, subset='val',
                                          test_mode=True, pipeline=tiny_pipeline())),
        test_evaluator=[dict(type='VideoMetric'), dict(type='LocalizationMetric')],
        test_cfg=dict(), env_cfg=dict(dist_cfg=dict(backend='gloo')), log_level='WARNING'))
    cfg_path, ckpt = str(tmp_path / 'oracle.py'), str(tmp_path / 'oracle.pth')
    cfg.dump(cfg_path)
    torch.save(dict(meta=dict(epoch=1), state_dict=dict(scale=torch.ones(1))), ckpt)
    work = tmp_path / 'grid'
    assert tool.main([cfg_path, ckpt, '--split', 'test', '--work-dir', str(work), '--track2',
                      '--perturb', 'jpeg', '--levels', '1,2']) == 0
    state = json.loads((work / 'robustness.json').read_text())
    clean = state['cells']['clean']['track2_score']
    assert 0.3 < clean <= 1.0
    row = state['summary']['track2_score']['rows']['jpeg']
    assert row['levels'] == {'1': pytest.approx(clean), '2': pytest.approx(clean)}
    assert state['summary']['track2_score']['clean'] == pytest.approx(clean)
    md = (work / 'robustness.md').read_text()
    assert '## Track 2 Score' in md and f'Track 2 Score {clean:.4f}' in md
    assert (work / 'robustness_heatmap.png').read_bytes()[:4] == b'\x89PNG'
    # Without --track2 the same finished cells are reported without the Score table.
    assert tool.main([cfg_path, ckpt, '--split', 'test', '--work-dir', str(work),
                      '--perturb', 'jpeg', '--levels', '1,2']) == 0
    assert '## Track 2 Score' not in (work / 'robustness.md').read_text()
