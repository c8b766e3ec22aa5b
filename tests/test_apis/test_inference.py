"""init_detector / inference_detector: safe loading, silent and unreadable files."""

import glob
import os
import os.path as osp

import pytest
import torch

from holaframe.apis import inference_detector, init_detector, load_weights
from holaframe.registry import MODELS
from holaframe.testing import write_tiny_detector


@pytest.fixture(scope='module')
def tiny(tmp_path_factory, synthetic_avdf_root):
    work = str(tmp_path_factory.mktemp('tiny_api'))
    cfg_path, ckpt_path = write_tiny_detector(work, synthetic_avdf_root)
    return work, cfg_path, ckpt_path, synthetic_avdf_root


class _Evil:
    def __reduce__(self):
        return (os.system, ('touch PWNED_BY_CHECKPOINT',))


def test_load_weights_rejects_code_in_checkpoint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = str(tmp_path / 'evil.pth')
    with open(path, 'wb') as f:
        torch.save(dict(state_dict=dict(w=torch.zeros(1)), payload=_Evil()), f)
    with pytest.raises(RuntimeError, match='weights_only=True') as err:
        load_weights(path)
    assert 'system' in str(err.value) and '--unsafe-load' in str(err.value)
    assert not (tmp_path / 'PWNED_BY_CHECKPOINT').exists()


def test_init_detector_loads_the_checkpoint(tiny):
    _, cfg_path, ckpt_path, _ = tiny
    model = init_detector(cfg_path, ckpt_path)
    state = torch.load(ckpt_path, weights_only=False)['state_dict']  # our own file: trusted
    for name, value in model.state_dict().items():
        assert torch.equal(value, state[name]), name
    assert not model.training
    other = MODELS.build(dict(model.cfg.model, neck=None, interaction=None, fusion=None,
                              refiner=None))
    bad = osp.join(tiny[0], 'mismatch.pth')
    torch.save(dict(state_dict=other.state_dict()), bad)
    with pytest.raises(RuntimeError, match='does not match'):
        init_detector(cfg_path, bad)


def test_inference_good_silent_and_bad_files(tiny, tmp_path):
    _, cfg_path, ckpt_path, root = tiny
    model = init_detector(cfg_path, ckpt_path)
    good = sorted(glob.glob(osp.join(root, 'testA', '**', '*.mp4'), recursive=True))[0]
    silent = sorted(glob.glob(osp.join(root, '*', 'silent_videos', '**', '*.mp4'),
                              recursive=True))[0]
    corrupt = str(tmp_path / 'corrupt.mp4')
    with open(corrupt, 'wb') as f:
        f.write(b'\x00\x00\x00\x18ftypmp42' + os.urandom(2000))
    entries = inference_detector(model, [good, silent, corrupt, str(tmp_path / 'missing.mp4')])
    assert [e['file'] for e in entries] == [good, silent, corrupt, str(tmp_path / 'missing.mp4')]
    assert entries[0]['error'] is None and 0.0 <= entries[0]['score'] <= 1.0
    assert entries[0]['has_audio'] is True
    assert entries[0]['label'] == int(entries[0]['score'] >= 0.5)
    assert entries[1]['error'] is None and entries[1]['has_audio'] is False
    for entry in entries[2:]:
        assert entry['score'] is None and entry['label'] is None and entry['error']
    # Same score through the single-path form; threshold moves the label only.
    single = inference_detector(model, good, threshold=0.0)
    assert single['score'] == pytest.approx(entries[0]['score'], abs=1e-6)
    assert single['label'] == 1
    cropped = inference_detector(model, silent, face_crop=True)
    assert cropped['error'] is None
