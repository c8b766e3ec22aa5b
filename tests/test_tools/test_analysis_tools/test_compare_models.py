"""tools/analysis_tools/compare_models.py on two tiny configs and tiny data."""

import json
from pathlib import Path

import pytest

from holaframe.testing.scripts import load_script

REPO = Path(__file__).resolve().parents[3]
CONFIGS = [REPO / 'configs' / 'hola' / 'hola_vit-nano_scratch_1xb8-10min_synthetic.py',
           REPO / 'configs' / 'baselines' / 'se-resnet_tiny_1xb8-10e_synthetic.py']
# One epoch of batch 2 with the loaders in the main process: seconds per config.
FAST = ['train_cfg.max_epochs=1'] + [
    f'{d}.{k}' for d in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    for k in ('batch_size=2', 'num_workers=0', 'persistent_workers=False')]


def _tool():
    return load_script(REPO / 'tools' / 'analysis_tools' / 'compare_models.py')


def _train_runs(run_dir: Path) -> int:
    return sum(1 for line in (run_dir / 'train.log').read_text().splitlines()
               if line.startswith('$ ') and 'tools/train.py' in line)


@pytest.mark.slow
def test_compare_two_configs_then_reuse(tmp_path, capsys):
    from holaframe.testing import generate_synthetic_avdf
    data = tmp_path / 'data'
    generate_synthetic_avdf(str(data), num_train=4, num_val=6, num_testA=1, num_testB=1, seed=0,
                            num_silent=0, duration_range=(2.5, 3.0), frame_size=112)
    work = tmp_path / 'work'
    argv = [str(c) for c in CONFIGS] + ['--work-dir', str(work), '--data-root', str(data),
                                        '--resamples', '50', '--cfg-options'] + FAST
    tool = _tool()
    assert tool.main(argv) == 0
    first = capsys.readouterr().out
    assert '[1/2] hola_vit-nano_scratch_1xb8-10min_synthetic (audio+video): done' in first
    assert '[2/2] se-resnet_tiny_1xb8-10e_synthetic (audio): done' in first

    table = (work / 'results.md').read_text()
    rows = [line for line in table.splitlines() if line.startswith('| `')]
    assert [r.split('`')[1] for r in rows] == [c.stem for c in CONFIGS]
    assert 'single-modality model `se-resnet_tiny_1xb8-10e_synthetic` (audio)' in table
    summary = json.loads((work / 'results.json').read_text())
    assert [r['name'] for r in summary['rows']] == [c.stem for c in CONFIGS]
    for row in summary['rows']:
        assert row['num_videos'] == 6 and row['params'] > 0 and row['gmacs'] > 0
        assert row['train_wall_s'] > 0 and row['infer_ms'] > 0
        for m in ('acc', 'wa_f1', 'uar', 'auc'):
            assert row['metrics'][m]['low'] <= row['metrics'][m]['value'] <= \
                row['metrics'][m]['high']
    assert summary['comparison']['audio_video'] == CONFIGS[0].stem

    # a second run reuses everything; without its record a model is evaluated again from
    # its checkpoint, not trained again
    audio_dir = work / CONFIGS[1].stem
    (audio_dir / 'record.json').unlink()
    assert tool.main(argv) == 0
    second = capsys.readouterr().out
    assert '[1/2] hola_vit-nano_scratch_1xb8-10min_synthetic (audio+video): reused' in second
    assert '[2/2] se-resnet_tiny_1xb8-10e_synthetic (audio): done' in second
    for c in CONFIGS:
        assert _train_runs(work / c.stem) == 1
    assert (audio_dir / 'record.json').is_file()
    new_rows = [line for line in (work / 'results.md').read_text().splitlines()
                if line.startswith('| `')]
    assert new_rows[0] == rows[0]  # the reused row is the recorded one


def test_refuses_missing_and_duplicate_configs(tmp_path):
    tool = _tool()
    with pytest.raises(SystemExit, match='no config file'):
        tool.main([str(tmp_path / 'nope.py'), '--work-dir', str(tmp_path)])
    with pytest.raises(SystemExit, match='same file name'):
        tool.main([str(CONFIGS[0]), str(CONFIGS[0]), '--work-dir', str(tmp_path)])
