"""tools/infer.py and tools/serve.py with --backend onnxruntime: the same scores as PyTorch."""

import glob
import json
import os.path as osp

import pytest

from holaframe.apis import init_detector
from holaframe.deploy import export_onnx, stack_packed
from holaframe.testing import write_tiny_detector
from holaframe.testing.tiny_dense_detector import write_tiny_dense_detector

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load(name: str):
    """The tool ``tools/<name>.py`` (``name`` may name a subfolder: ``deployment/export_onnx``)
    as a module."""
    from holaframe.testing.scripts import load_script
    return load_script(osp.join(REPO, 'tools', f'{name}.py'), f'{name.replace("/", "_")}_tool')


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


def _served(cfg_path: str, ckpt_path: str, onnx_file: str, clip: str, tmp: str):
    """The service's answers for ``clip`` with the onnxruntime and the PyTorch backend."""
    pytest.importorskip('fastapi', reason='the serve extra (fastapi, uvicorn)')
    from holaframe.testing.service_client import post_video, running_server
    serve = _load('serve')
    bodies = {}
    for backend, weights in (('pytorch', ckpt_path), ('onnxruntime', onnx_file)):
        args = serve.parse_args([cfg_path, weights, '--backend', backend, '--no-face-crop',
                                 '--threads', '1', '--tmp-dir', tmp])
        with running_server(serve.build_app(args)) as url:
            status, _, body = post_video(url + '/v1/score', clip)
        assert status == 200, body
        bodies[backend] = body
    return bodies['onnxruntime'], bodies['pytorch']


def test_serve_onnxruntime_gives_the_pytorch_answer(tmp_path, synthetic_avdf_root):
    pytest.importorskip('fastapi', reason='the serve extra (fastapi, uvicorn)')
    cfg_path, ckpt_path = write_tiny_dense_detector(str(tmp_path))
    clip = sorted(glob.glob(osp.join(synthetic_avdf_root, 'val', '**', '*.mp4'),
                            recursive=True))[0]
    onnx_file = _export(cfg_path, ckpt_path, clip, str(tmp_path / 'dense.onnx'))
    ort, ref = _served(cfg_path, ckpt_path, onnx_file, clip, str(tmp_path))
    assert ort['model']['backend'] == 'onnxruntime' and ort['model']['quantize'] == 'fp32'
    assert abs(ort['score'] - ref['score']) <= 1e-4
    # The frame timeline comes from the graph's frame_scores output.
    assert ort['localization']['available'] and ort['timeline']['times'] == ref['timeline'][
        'times']
    assert max(abs(a - b) for a, b in zip(ort['timeline']['scores'],
                                          ref['timeline']['scores'])) <= 1e-4


def test_infer_localize_onnxruntime_equals_pytorch(tmp_path, capsys):
    """--localize --backend onnxruntime on a whole-video graph: the JSON lines (segments, frame
    timeline) of the PyTorch backend and a PNG timeline per video; a graph without the
    localisation outputs is refused before any video is read."""
    from holaframe.testing import make_indexed_clip
    from holaframe.testing.tiny_localization_detector import write_tiny_localization_detector
    infer, export = _load('infer'), _load('deployment/export_onnx')
    videos = tmp_path / 'videos'
    videos.mkdir()
    for n in (150, 40):  # four overlapping windows; shorter than one window
        make_indexed_clip(str(videos / f'clip{n}.mp4'), num_frames=n, size=64)
    cfg_path, ckpt_path = write_tiny_localization_detector(str(tmp_path))
    onnx_file = str(tmp_path / 'loc.onnx')
    assert export.main([cfg_path, ckpt_path, onnx_file, '--sample-video',
                        str(videos / 'clip150.mp4')]) == 0
    assert 'frame_offsets' in capsys.readouterr().err
    rows = {}
    for backend, weights in (('pytorch', ckpt_path), ('onnxruntime', onnx_file)):
        out = tmp_path / f'{backend}.jsonl'
        code = infer.main([cfg_path, weights, str(videos), '--localize', '--backend', backend,
                           '--out', str(out), '--no-progress', '--relative-to', str(videos)])
        assert code == 0, capsys.readouterr().err
        rows[backend] = {r['file']: r for r in map(json.loads, out.read_text().splitlines())}
    assert sorted(rows['onnxruntime']) == ['clip150.mp4', 'clip40.mp4']
    for name, got in rows['onnxruntime'].items():
        ref = rows['pytorch'][name]
        assert got['error'] is None and abs(got['score'] - ref['score']) <= 1e-4
        assert got['frame_times'] == ref['frame_times'] and got['duration'] == ref['duration']
        assert len(got['frame_scores']) == int(name[4:-4])  # one score per real frame
        # The JSON rounds to 4 decimals: 1e-4 plus the rounding step.
        assert max(abs(a - b) for a, b in zip(got['frame_scores'], ref['frame_scores'])) <= 2e-4
        assert len(got['segments']) == len(ref['segments']) >= 1
        for a, b in zip(got['segments'], ref['segments']):
            assert max(abs(x - y) for x, y in zip(a, b)) <= 2e-4
        with open(got['timeline'], 'rb') as f:
            assert f.read(8) == b'\x89PNG\r\n\x1a\n'
        assert osp.dirname(got['timeline']) == str(tmp_path / 'onnxruntime_timelines')
    # int8 dynamic through the export tool localises too.
    dyn = str(tmp_path / 'loc_dyn.onnx')
    assert export.main([cfg_path, ckpt_path, dyn, '--int8', 'dynamic', '--sample-video',
                        str(videos / 'clip40.mp4')]) == 0
    assert infer.main([cfg_path, dyn, str(videos / 'clip150.mp4'), '--localize', '--backend',
                       'onnxruntime', '--out', str(tmp_path / 'dyn.jsonl'),
                       '--no-progress']) == 0
    row = json.loads((tmp_path / 'dyn.jsonl').read_text())
    assert abs(row['score'] - rows['pytorch']['clip150.mp4']['score']) <= 0.01
    capsys.readouterr()
    # A graph of the same model without its localisation head cannot localise.
    cfg2, ckpt2 = write_tiny_localization_detector(str(tmp_path), localize=False)
    detect = str(tmp_path / 'detect.onnx')
    assert export.main([cfg2, ckpt2, detect, '--sample-video', str(videos / 'clip40.mp4')]) == 0
    capsys.readouterr()
    code = infer.main([cfg2, detect, str(videos), '--localize', '--backend', 'onnxruntime',
                       '--out', str(tmp_path / 'none.jsonl'), '--no-progress'])
    err = capsys.readouterr().err
    assert code == 1 and 'infer.py: error: --localize: ' in err, err
    assert 'detect.onnx: the graph has no frame_offsets output' in err
    assert not (tmp_path / 'none.jsonl').exists()


def test_serve_onnxruntime_whole_video_graph(tmp_path):
    """tools/serve.py --backend onnxruntime with a whole-video graph answers the PyTorch
    model's timeline over the whole video, segments and proposals."""
    pytest.importorskip('fastapi', reason='the serve extra (fastapi, uvicorn)')
    from holaframe.testing import make_indexed_clip
    from holaframe.testing.tiny_localization_detector import write_tiny_localization_detector
    clip = make_indexed_clip(str(tmp_path / 'clip.mp4'), num_frames=150, size=64)
    cfg_path, ckpt_path = write_tiny_localization_detector(str(tmp_path))
    onnx_file = str(tmp_path / 'loc.onnx')
    assert _load('deployment/export_onnx').main([cfg_path, ckpt_path, onnx_file,
                                                 '--sample-video', clip]) == 0
    ort, ref = _served(cfg_path, ckpt_path, onnx_file, clip, str(tmp_path))
    assert ort['model']['backend'] == 'onnxruntime' and abs(ort['score'] - ref['score']) <= 1e-4
    assert ort['localization']['source'] == 'localization_head'
    assert ort['timeline']['times'] == ref['timeline']['times'] and len(
        ort['timeline']['times']) == 150
    assert max(abs(a - b) for a, b in zip(ort['timeline']['scores'],
                                          ref['timeline']['scores'])) <= 1e-4
    assert len(ort['proposals']) == len(ref['proposals']) >= 1
    for a, b in zip(ort['proposals'], ref['proposals']):
        assert all(abs(a[k] - b[k]) <= 2e-3 for k in ('start', 'end', 'confidence'))
