"""tools/analysis_tools/alignment_lag.py: the lag profile's arithmetic, and the tool end to end on
a tiny generated set with an untrained alignment model."""

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from holaframe.testing.scripts import load_script

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / 'configs' / 'generalisation' / 'av-align_tiny_1xb8-10min_synthetic.py'


def _tool():
    return load_script(REPO / 'tools' / 'analysis_tools' / 'alignment_lag.py')


class Lagged:
    """Stands in for the model: audio vectors are the video's, ``lag`` frames later."""

    max_offset = 3

    def __init__(self, lag: int) -> None:
        self.lag = lag

    def embed(self, inputs):
        torch.manual_seed(0)
        z_v = F.normalize(torch.randn(1, 12, 8), dim=-1)
        return z_v, torch.roll(z_v, self.lag, dims=1)  # a_{t+lag} = v_t


@pytest.mark.parametrize('lag', [0, 2, -1])
def test_profile_peaks_at_the_lag(lag):
    profile = _tool().clip_lag_profile(Lagged(lag), {})
    assert profile.shape == (7,)
    assert int(profile.argmax()) - 3 == lag
    assert float(profile.max()) > 0.8  # all but the frames rolled round the clip's end


def test_tool_on_a_tiny_set(tmp_path, capsys):
    from mmengine.config import Config

    from holaframe.registry import MODELS
    from holaframe.testing import generate_synthetic_avdf
    from holaframe.utils import register_all_modules
    register_all_modules()
    root = tmp_path / 'cartoon'
    generate_synthetic_avdf(str(root), num_train=0, num_val=4, num_testA=0, num_testB=0, seed=0,
                            num_silent=0, duration_range=(2.5, 3.0), frame_size=112)
    ckpt = tmp_path / 'random.pth'
    torch.save(dict(state_dict=MODELS.build(Config.fromfile(CONFIG).model).state_dict()), ckpt)
    out = tmp_path / 'lag.json'
    tool = _tool()
    assert tool.main([str(CONFIG), str(ckpt), str(root), '--out', str(out)]) == 0
    report = json.loads(out.read_text())
    reals = [m for m in json.loads((root / 'val_metadata.json').read_text())
             if not m.get('fake_segments')]
    assert report['num_clips'] == len(reals) > 0
    assert report['offsets'] == list(range(-8, 9)) and len(report['mean_agreement']) == 17
    assert sum(report['best_offset_counts'].values()) == len(reals)
    assert 'best offset within 1 frame of 0' in capsys.readouterr().out
    hola = REPO / 'configs' / 'hola' / 'hola-dense_tiny_1xb8-10min_synthetic.py'
    with pytest.raises(SystemExit, match='needs an AVAlignmentDetector'):
        tool.main([str(hola), str(ckpt), str(root)])
    with pytest.raises(SystemExit, match='no .*test_metadata.json'):
        tool.main([str(CONFIG), str(ckpt), str(root), '--split', 'test'])
