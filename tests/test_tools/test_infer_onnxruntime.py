"""tools/infer.py and tools/serve.py with --backend onnxruntime: the same scores as PyTorch."""

import glob
import importlib.util
import json
import os.path as osp

import pytest

from holaframe.apis import init_detector
from holaframe.deploy import export_onnx, stack_packed
from holaframe.testing import write_tiny_detector
from holaframe.testing.tiny_dense_detector import write_tiny_dense_detector

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f'{name}_tool',
                                                  osp.join(REPO, 'tools', f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _export(cfg_path: str, ckpt_path: str, video: str, out: str) -> str:
    from mmengine.dataset import Compose
    from mmengine.registry import DefaultScope

    from holaframe.apis.inference import test_pipeline_cfg as pipeline_cfg
    model = init_detector(cfg_path, ckpt_path)
    with DefaultScope.overwrite_default_scope('holaframe'):
        data = Compose(pipeline_cfg(model.cfg))(dict(filename=video, file='v', sample_idx=0,
                                                     gt_label=-1))
    export_onnx(model, stack_packed([data]), out)
    return out


def test_infer_onnxruntime_equals_pytorch(tmp_path, synthetic_avdf_root, capsys):
    infer = _load('infer')
    cfg_path, ckpt_path = write_tiny_detector(str(tmp_path), synthetic_avdf_root)
    videos = tmp_path / 'videos'
    videos.mkdir()
    clips = sorted(glob.glob(osp.join(synthetic_avdf_root, 'val', '**', '*.mp4'),
                             recursive=True))[:3]
    for i, clip in enumerate(clips):
        (videos / f'clip{i}.mp4').write_bytes(open(clip, 'rb').read())
    onnx_file = _export(cfg_path, ckpt_path, clips[0], str(tmp_path / 'tiny.onnx'))
    rows = {}
    for backend, weights in (('pytorch', ckpt_path), ('onnxruntime', onnx_file)):
        out = tmp_path / f'{backend}.jsonl'
        code = infer.main([cfg_path, weights, str(videos), '--backend', backend, '--out',
                           str(out), '--no-progress', '--relative-to', str(videos)])
        assert code == 0, capsys.readouterr().err
        rows[backend] = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r['file'] for r in rows['onnxruntime']] == ['clip0.mp4', 'clip1.mp4', 'clip2.mp4']
    for a, b in zip(rows['onnxruntime'], rows['pytorch']):
        assert a['error'] is None and abs(a['score'] - b['score']) <= 1e-4
        assert a['label'] == b['label'] and a['has_audio'] == b['has_audio']
    # A missing or unreadable graph is a clear error naming the file, exit status 1.
    bad = tmp_path / 'bad.onnx'
    bad.write_text('not a model')
    for path, message in ((str(tmp_path / 'none.onnx'), 'none.onnx: no such ONNX file'),
                          (str(bad), 'bad.onnx: not a readable ONNX model'),
                          (ckpt_path, 'tiny_hola.pth: not a readable ONNX model')):
        code = infer.main([cfg_path, path, str(videos), '--backend', 'onnxruntime',
                           '--out', str(tmp_path / 'x.jsonl'), '--no-progress'])
        err = capsys.readouterr().err
        assert code == 1 and 'infer.py: error: ' in err and message in err, err
    for extra in (['--quantize', 'int8'], ['--device', 'cuda'], ['--prefetch', '-1']):
        with pytest.raises(SystemExit):
            infer.parse_args(['c', 'k', 'v', '--backend', 'onnxruntime'] + extra)
    assert infer.parse_args(['c', 'k', 'v', '--backend', 'onnxruntime']).device == 'cpu'


def test_serve_onnxruntime_gives_the_pytorch_answer(tmp_path, synthetic_avdf_root):
    pytest.importorskip('fastapi', reason='the serve extra (fastapi, uvicorn)')
    from holaframe.testing.service_client import post_video, running_server
    serve = _load('serve')
    cfg_path, ckpt_path = write_tiny_dense_detector(str(tmp_path))
    clip = sorted(glob.glob(osp.join(synthetic_avdf_root, 'val', '**', '*.mp4'),
                            recursive=True))[0]
    onnx_file = _export(cfg_path, ckpt_path, clip, str(tmp_path / 'dense.onnx'))
    bodies = {}
    for backend, weights in (('pytorch', ckpt_path), ('onnxruntime', onnx_file)):
        args = serve.parse_args([cfg_path, weights, '--backend', backend, '--no-face-crop',
                                 '--threads', '1', '--tmp-dir', str(tmp_path)])
        with running_server(serve.build_app(args)) as url:
            status, _, body = post_video(url + '/v1/score', clip)
        assert status == 200, body
        bodies[backend] = body
    ort, ref = bodies['onnxruntime'], bodies['pytorch']
    assert ort['model']['backend'] == 'onnxruntime' and ort['model']['quantize'] == 'fp32'
    assert abs(ort['score'] - ref['score']) <= 1e-4
    # The frame timeline comes from the graph's frame_scores output.
    assert ort['localization']['available'] and ort['timeline']['times'] == ref['timeline'][
        'times']
    assert max(abs(a - b) for a, b in zip(ort['timeline']['scores'],
                                          ref['timeline']['scores'])) <= 1e-4
