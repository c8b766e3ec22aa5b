"""tools/deployment/export_onnx.py: fp32 and int8 graphs of the tiny detector."""

import glob
import os.path as osp

import pytest

from holaframe.deploy import read_metadata
from holaframe.testing import write_tiny_detector
from holaframe.testing.scripts import load_script

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def _tool():
    return load_script(osp.join(REPO, 'tools', 'deployment', 'export_onnx.py'), 'export_onnx_tool')


def test_export_fp32_and_int8(tmp_path, synthetic_avdf_root, capsys):
    tool = _tool()
    cfg_path, ckpt_path = write_tiny_detector(str(tmp_path), synthetic_avdf_root)
    video = sorted(glob.glob(osp.join(synthetic_avdf_root, 'val', '**', '*.mp4'),
                             recursive=True))[0]
    fp32 = str(tmp_path / 'out' / 'tiny.onnx')
    assert tool.main([cfg_path, ckpt_path, fp32, '--sample-video', video]) == 0
    err = capsys.readouterr().err
    assert 'example score' in err and f'wrote {fp32}' in err
    meta = read_metadata(fp32)
    assert meta['precision'] == 'fp32' and meta['config'] == 'tiny_hola.py'
    assert meta['checkpoint'] == 'tiny_hola.pth' and meta['outputs'] == 'clip_score'
    # The tiny config's training set is not configured: static calibration says so; dynamic
    # needs no data.
    dyn = str(tmp_path / 'tiny_dyn.onnx')
    assert tool.main([cfg_path, ckpt_path, dyn, '--int8', 'dynamic', '--sample-video',
                      video]) == 0
    assert read_metadata(dyn)['precision'] == 'int8-dynamic'
    assert tool.main([cfg_path, ckpt_path, str(tmp_path / 's.onnx'), '--int8', 'static',
                      '--sample-video', video]) == 1
    err = capsys.readouterr().err
    assert 'export_onnx.py: error: ' in err and 'no train_dataloader.dataset to calibrate' in err
    assert not (tmp_path / 's.onnx').exists()
    with pytest.raises(SystemExit):
        tool.parse_args([cfg_path, ckpt_path, 'x.onnx', '--calib-samples', '0'])
    assert tool.main([cfg_path, ckpt_path, str(tmp_path / 'n.onnx'), '--sample-video',
                      'nothing.mp4']) == 1
    assert '--sample-video nothing.mp4: no such file' in capsys.readouterr().err
