"""tools/infer.py on a folder with a good clip, a silent clip and a corrupt file."""

import glob
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', 'apis'))
from tiny_detector import write_tiny_detector  # noqa: E402

from holaframe.evaluation import read_submission  # noqa: E402

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
    assert proc.returncode == 0, proc.stderr[-3000:]
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
    submitted = dict(read_submission(str(sub)))
    assert set(submitted) == {'good.mp4', osp.join('sub', 'silent.mp4')}
    assert abs(submitted['good.mp4'] - rows['good.mp4']['score']) < 1e-6
