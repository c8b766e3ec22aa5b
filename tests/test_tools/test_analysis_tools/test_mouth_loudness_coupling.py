"""tools/analysis_tools/mouth_loudness_coupling.py: the two signals, the lag convention, the
parameter-free score, and the tool end to end on a tiny generated set."""

import json
from pathlib import Path

import numpy as np
import pytest

from holaframe.testing.scripts import load_script

REPO = Path(__file__).resolve().parents[3]
# A fixed mouth box: no face tracking on the tiny clips.
CONFIG = REPO / 'configs' / 'generalisation' / 'av-align_tiny_1xb8-10min_synthetic.py'


def _tool():
    return load_script(REPO / 'tools' / 'analysis_tools' / 'mouth_loudness_coupling.py')


def test_signals():
    tool = _tool()
    video = np.full((3, 4, 8, 8), 200.0)
    video[:, 2, 3:5, 3:5] = 0.0  # a dark mouth in frame 2, inside the central half
    video[:, 3, 0, 0] = 0.0  # darkness outside the central half does not count
    d = tool.mouth_darkness(video)
    assert d.shape == (4,) and d[2] > d[0] and d[3] == d[0]
    audio = np.arange(12.0).reshape(4, 3)
    np.testing.assert_allclose(tool.loudness(audio), [1, 4, 7, 10])


@pytest.mark.parametrize('lag', [0, 1, -2])
def test_correlation_peaks_where_the_sound_follows_the_mouth(lag):
    tool = _tool()
    rng = np.random.default_rng(0)
    d = rng.standard_normal(60)
    sound = np.roll(d, lag)  # l_{t+lag} = d_t: the sound `lag` frames after the mouth
    corr = tool.lag_correlations(d, sound, 3)
    assert corr.shape == (7,) and int(corr.argmax()) - 3 == lag
    assert corr.max() > 0.95
    np.testing.assert_allclose(tool.lag_correlations(d, np.ones(60), 1), 0.0)


def test_a_local_mismatch_raises_the_score():
    tool = _tool()
    rng = np.random.default_rng(1)
    d = np.convolve(rng.standard_normal(120), np.ones(5) / 5, mode='same')
    sound = np.roll(d, 1) + 0.05 * rng.standard_normal(120)
    edited = sound.copy()
    edited[60:75] = -edited[60:75]  # a word whose sound no longer matches the mouth
    assert tool.disagreement_score(d, edited, 2, 9) > 3 * tool.disagreement_score(d, sound, 2, 9)


def test_tool_on_a_tiny_set(tmp_path, capsys):
    from holaframe.testing import generate_synthetic_avdf
    root = tmp_path / 'cartoon'
    generate_synthetic_avdf(str(root), num_train=0, num_val=6, num_testA=0, num_testB=0, seed=0,
                            num_silent=0, duration_range=(2.5, 3.0), frame_size=112)
    out = tmp_path / 'coupling.json'
    tool = _tool()
    assert tool.main([str(root), '--config', str(CONFIG), '--out', str(out)]) == 0
    report = json.loads(out.read_text())
    metas = json.loads((root / 'val_metadata.json').read_text())
    reals = [m for m in metas if not m.get('fake_segments')]
    assert report['num_clips'] == len(metas) and report['num_real'] == len(reals) > 0
    assert report['lags'] == [-2, -1, 0, 1, 2] and len(report['mean_correlation']) == 5
    assert sum(report['best_lag_counts'].values()) == len(reals)
    # The cartoon generator opens its mouths with the loudness: a clear peak.
    assert max(report['mean_correlation']) > 0.5
    assert 0.0 <= report['auc'] <= 1.0
    assert 'parameter-free detector: AUC' in capsys.readouterr().out
    with pytest.raises(SystemExit, match='no .*test_metadata.json'):
        tool.main([str(root), '--config', str(CONFIG), '--split', 'test'])
