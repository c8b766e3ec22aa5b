"""tools/analysis_tools/cross_dataset.py: threshold transfer arithmetic, set names, and the
whole protocol on two tiny generated sets (matrix written, second run reuses every run)."""

import json
from pathlib import Path

import numpy as np
import pytest

from holaframe.testing.scripts import load_script

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / 'configs' / 'hola' / 'hola_vit-nano_scratch_1xb8-10min_synthetic.py'
FAST = ['train_cfg.max_epochs=1'] + [
    f'{d}.{k}' for d in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    for k in ('batch_size=2', 'num_workers=0', 'persistent_workers=False')]


def _tool():
    return load_script(REPO / 'tools' / 'analysis_tools' / 'cross_dataset.py')


def test_best_threshold_and_transfer():
    tool = _tool()
    labels = [0, 0, 0, 1, 1, 1]
    thr, acc = tool.best_threshold(labels, [0.1, 0.2, 0.3, 0.6, 0.7, 0.8])
    assert 0.3 < thr < 0.6 and acc == 100.0
    # a target whose scores are shifted up: the source threshold calls reals fake
    source = dict(labels=labels, scores=[0.1, 0.2, 0.3, 0.6, 0.7, 0.8])
    target = dict(labels=labels, scores=[0.65, 0.7, 0.75, 0.85, 0.9, 0.95])
    c = tool.cell_metrics(source, target)
    assert c['auc'] == 1.0 and c['acc_best_threshold'] == 100.0
    assert c['acc_source_threshold'] == 50.0 and c['fake_rate_source_threshold'] == 100.0
    assert c['num_videos'] == 6 and c['num_fake'] == 3 and c['acc_all_fake'] == 50.0
    # ... while the same threshold carried as a quantile of the target's real clips does far
    # better (not 100: half of three reals estimates their maximum from one or two of them).
    assert c['acc_target_reals_threshold'] > 70.0
    # per modify type: real clips against the clips of one type
    files = ['r1', 'r2', 'r3', 'v', 'a', 'b']
    types = dict(r1='real', r2='real', r3='real', v='visual_modified', a='audio_modified',
                 b='both_modified')
    target = dict(files=files, labels=labels, scores=[0.5, 0.6, 0.7, 0.55, 0.9, 0.1])
    c = tool.cell_metrics(source, target, types)
    assert c['auc_audio_modified'] == 1.0 and c['auc_both_modified'] == 0.0
    assert c['auc_visual_modified'] == pytest.approx(1 / 3)


def test_threshold_from_target_reals_is_a_quantile_cross_fitted_over_halves():
    tool = _tool()
    # Source: reals 0.1..0.4, fakes 0.8, 0.9; the best threshold (0.6) is above every real.
    src_y, src_s = [0, 0, 0, 0, 1, 1], [0.1, 0.2, 0.3, 0.4, 0.8, 0.9]
    thr, _ = tool.best_threshold(src_y, src_s)
    # Target: every score shifted by +5 and the reals spread 10x: the absolute threshold calls
    # everything fake; the quantile (all reals below it: q = 1) is the target reals' maximum.
    y, s = [0, 0, 0, 0, 1, 1], [5.0, 6.0, 7.0, 8.0, 9.0, 9.5]
    assert tool.accuracy_percent(y, s, thr) == pytest.approx(100 * 2 / 6)
    # Each half's maximum classifies the other half's reals: a real above that maximum is
    # called fake; the fakes (above every real) are always right. With halves {5, 6} / {7, 8}
    # both reals of {7, 8} are called fake by max 6, both of {5, 6} real by max 8: 4 of 6.
    acc = tool.target_reals_threshold_acc(src_y, src_s, thr, y, s, splits=200, seed=1)
    assert 100 * 4 / 6 - 1e-9 <= acc < 100.0
    # A fixed quantile instead of the source threshold's: q = 1 is this source's own, q = 0
    # (the minimum of a half) calls every held-out real but the lowest fake.
    assert tool.target_reals_threshold_acc(src_y, src_s, thr, y, s, quantile=1.0, splits=200,
                                           seed=1) == acc
    low = tool.target_reals_threshold_acc(src_y, src_s, thr, y, s, quantile=0.0, splits=200,
                                          seed=1)
    assert low < acc
    # One real clip in the target cannot be split: no number.
    assert tool.target_reals_threshold_acc(src_y, src_s, thr, [0, 1], [0.1, 0.9]) is None


def test_parse_sets(tmp_path):
    tool = _tool()
    (tmp_path / 'a').mkdir()
    (tmp_path / 'b').mkdir()
    with pytest.raises(SystemExit, match='reals-quantile must be in'):
        tool.main([str(CONFIG), '--train', str(tmp_path / 'a'), '--test', str(tmp_path / 'a'),
                   '--work-dir', str(tmp_path / 'w'), '--reals-quantile', '2'])
    sets = tool.parse_sets([str(tmp_path / 'a'), f'photo={tmp_path / "b"}'])
    assert list(sets) == ['a', 'photo']
    with pytest.raises(SystemExit, match='is not a folder'):
        tool.parse_sets([str(tmp_path / 'nope')])
    with pytest.raises(SystemExit, match='two sets named'):
        tool.parse_sets([f'x={tmp_path / "a"}', f'x={tmp_path / "b"}'])


def test_render_and_heatmap(tmp_path):
    tool = _tool()
    cell = dict(auc=0.9, acc_source_threshold=60.0, acc_best_threshold=80.0,
                fake_rate_source_threshold=70.0)
    matrix = dict(config='c.py', split='val', train=['a'], test=['a', 'b'],
                  cells=dict(a=dict(a=cell, b=dict(cell, auc=0.6))))
    text = tool.render(matrix)
    assert '| a | 0.900 | 0.600 |' in text and '| a | 60.0 | 60.0 |' in text
    assert 'visual_modified' not in text  # no per-type AUC in these cells
    tool.save_heatmap(matrix, str(tmp_path / 'm.png'))
    assert (tmp_path / 'm.png').stat().st_size > 1000


def _train_runs(log: Path) -> int:
    return sum(1 for line in log.read_text().splitlines()
               if line.startswith('$ ') and 'tools/train.py' in line)


@pytest.mark.slow
def test_two_generators_matrix_then_reuse(tmp_path, capsys):
    from holaframe.testing import generate_photo_avdf, generate_synthetic_avdf
    cartoon, photo = tmp_path / 'cartoon', tmp_path / 'photo'
    generate_synthetic_avdf(str(cartoon), num_train=4, num_val=6, num_testA=0, num_testB=0,
                            seed=0, num_silent=0, duration_range=(2.5, 3.0), frame_size=112)
    generate_photo_avdf(str(photo), num_train=4, num_val=8, num_testA=0, num_testB=0, seed=0,
                        num_silent=0, duration_range=(2.5, 3.0), frame_size=112)
    work = tmp_path / 'work'
    sets = [f'cartoon={cartoon}', f'photo={photo}']
    # One source, two targets: every part of the protocol (training, testing on each set, the
    # source threshold carried to the other set, the matrix, the reuse) at half the cost of a
    # second source.
    argv = [str(CONFIG), '--train', sets[0], '--test'] + sets + [
        '--work-dir', str(work), '--cfg-options'] + FAST
    tool = _tool()
    assert tool.main(argv) == 0
    first = capsys.readouterr().out
    assert 'train cartoon: done' in first
    assert 'test cartoon -> photo' in first
    matrix = json.loads((work / 'matrix.json').read_text())
    assert matrix['train'] == ['cartoon'] and matrix['test'] == ['cartoon', 'photo']
    for tgt, n in (('cartoon', 6), ('photo', 8)):
        c = matrix['cells']['cartoon'][tgt]
        assert c['num_videos'] == n and 0 <= c['auc'] <= 1
        assert c['acc_best_threshold'] >= c['acc_source_threshold']
    # on its own split the source threshold is the best one
    own = matrix['cells']['cartoon']['cartoon']
    assert own['acc_source_threshold'] == own['acc_best_threshold']
    # per modify type on the photo set (every type present among its 8 clips)
    for t in ('visual_modified', 'audio_modified', 'both_modified'):
        assert 0 <= matrix['cells']['cartoon']['photo'][f'auc_{t}'] <= 1
    assert '| cartoon |' in (work / 'matrix.md').read_text()
    assert (work / 'matrix.png').stat().st_size > 1000
    scores = json.loads((work / 'cartoon' / 'on_photo' / 'result.json').read_text())
    assert len(scores['scores']) == 8 and np.isfinite(scores['scores']).all()

    # the second run trains and tests nothing again
    assert tool.main(argv) == 0
    second = capsys.readouterr().out
    assert 'train cartoon: reused' in second
    assert 'test ' not in second.replace('train ', '')
    assert _train_runs(work / 'cartoon' / 'train.log') == 1
    assert json.loads((work / 'matrix.json').read_text())['cells'] == matrix['cells']
