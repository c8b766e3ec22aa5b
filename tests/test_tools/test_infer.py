"""tools/infer.py on a folder with a good clip, a silent clip and a corrupt file (fp32, int8)."""

import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

from holaframe.apis import inference_detector, init_detector
from holaframe.evaluation import read_submission
from holaframe.testing import INT8_SCORE_TOL, write_tiny_detector

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.slow
def test_infer_folder(tmp_path, synthetic_avdf_root):
    cfg_path, ckpt_path = write_tiny_detector(str(tmp_path), synthetic_avdf_root)
    videos = tmp_path / 'videos'
    (videos / 'sub').mkdir(parents=True)
    good = sorted(glob.glob(osp.join(synthetic_avdf_root, 'testA', '**', '*.mp4'),
                            recursive=True))[0]
    silent = sorted(glob.glob(osp.join(synthetic_avdf_root, '*', 'silent_videos', '**',
                                       '*.mp4'), recursive=True))[0]
    shutil.copy(good, videos / 'good.mp4')
    shutil.copy(silent, videos / 'sub' / 'silent.mp4')
    (videos / 'corrupt.mp4').write_bytes(b'not a video at all' * 50)
    (videos / 'notes.txt').write_text('ignored: not a video')
    out, sub = tmp_path / 'scores.jsonl', tmp_path / 'scores.txt'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'infer.py'), cfg_path, ckpt_path, str(videos),
         '--out', str(out), '--submission', str(sub), '--relative-to', str(videos),
         '--threshold', '0.25'],
        cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300)
    # Status 3: finished, but a video could not be scored.
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert '2 video(s) scored, 1 failed' in proc.stderr
    rows = {r['file']: r for r in map(json.loads, out.read_text().splitlines())}
    assert sorted(rows) == ['corrupt.mp4', 'good.mp4', osp.join('sub', 'silent.mp4')]
    for row in rows.values():
        assert set(row) == {'file', 'score', 'label', 'has_audio', 'error'}
    assert rows['good.mp4']['error'] is None and rows['good.mp4']['has_audio'] is True
    assert rows['good.mp4']['label'] == int(rows['good.mp4']['score'] >= 0.25)
    silent_row = rows[osp.join('sub', 'silent.mp4')]
    assert silent_row['error'] is None and silent_row['has_audio'] is False
    assert 0.0 <= silent_row['score'] <= 1.0
    assert rows['corrupt.mp4']['score'] is None and 'corrupt.mp4' in rows['corrupt.mp4']['error']
    # One line per listed video: the corrupt one gets the documented fallback score and is
    # in the error report.
    submitted = dict(read_submission(str(sub)))
    assert set(submitted) == {'good.mp4', osp.join('sub', 'silent.mp4'), 'corrupt.mp4'}
    assert abs(submitted['good.mp4'] - rows['good.mp4']['score']) < 1e-6
    assert submitted['corrupt.mp4'] == 0.5
    errors = [json.loads(x) for x in (tmp_path / 'scores.errors.jsonl').read_text().splitlines()]
    assert [e['file'] for e in errors] == ['corrupt.mp4'] and 'corrupt.mp4' in errors[0]['error']


@pytest.mark.slow
def test_infer_folder_int8(tmp_path, synthetic_avdf_root):
    cfg_path, ckpt_path = write_tiny_detector(str(tmp_path), synthetic_avdf_root)
    videos = tmp_path / 'videos'
    (videos / 'sub').mkdir(parents=True)
    clips = sorted(glob.glob(osp.join(synthetic_avdf_root, 'testA', '**', '*.mp4'),
                             recursive=True))[:3]
    for i, clip in enumerate(clips):
        shutil.copy(clip, videos / ('sub' if i else '.') / f'clip{i}.mp4')
    (videos / 'corrupt.mp4').write_bytes(b'not a video at all' * 50)
    out = tmp_path / 'scores.jsonl'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'infer.py'), cfg_path, ckpt_path, str(videos),
         '--out', str(out), '--quantize', 'int8', '--no-progress'],
        cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert '3 video(s) scored, 1 failed' in proc.stderr
    # torch.ao.quantization's deprecation warnings are silenced.
    assert 'torch.ao.quantization' not in proc.stderr and 'quantize_per_tensor' not in proc.stderr
    rows = {osp.relpath(r['file'], videos): r
            for r in map(json.loads, out.read_text().splitlines())}
    assert rows['corrupt.mp4']['error'] and rows['corrupt.mp4']['score'] is None
    fp32 = init_detector(cfg_path, ckpt_path)
    names = ['clip0.mp4', osp.join('sub', 'clip1.mp4'), osp.join('sub', 'clip2.mp4')]
    ref = inference_detector(fp32, [str(videos / n) for n in names])
    diffs = [abs(rows[n]['score'] - r['score']) for n, r in zip(names, ref)]
    assert max(diffs) <= INT8_SCORE_TOL, diffs
    assert max(diffs) > 0, 'the scores are the fp32 ones: --quantize int8 had no effect'


def test_infer_int8_refuses_gpu_device():
    from holaframe.testing.scripts import load_script
    infer = load_script(osp.join(REPO, 'tools', 'infer.py'), 'infer_tool')
    with pytest.raises(SystemExit) as exc:
        infer.parse_args(['cfg.py', 'ckpt.pth', 'videos', '--quantize', 'int8', '--device',
                          'cuda'])
    assert exc.value.code == 2
    assert infer.parse_args(['c', 'k', 'v', '--quantize', 'int8']).device == 'cpu'
    assert infer.parse_args(['c', 'k', 'v', '--device', 'cpu']).quantize is None
