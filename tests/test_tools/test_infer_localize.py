"""tools/infer.py --localize: JSON lines with segments and timelines, PNG timelines, failures."""

import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from holaframe.testing import generate_synthetic_avdf
from holaframe.testing.tiny_localization_detector import write_tiny_localization_detector

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.mark.slow
def test_infer_localize_writes_jsonl_and_png(tmp_path):
    root = tmp_path / 'data'
    # One 20 s pair whose fake segment lies in the last second, at 64 px (fast to write).
    meta = generate_synthetic_avdf(str(root), 0, 2, 0, 0, seed=0, num_silent=0,
                                   duration_range=(20.0, 20.0), frame_size=64,
                                   segment_range=(-1.0, -0.08))['val']
    fake = next(m for m in meta if m['fake_segments'])
    assert all(19.0 <= s and e <= 20.0 for s, e in fake['fake_segments'])
    (root / 'val' / 'broken.mp4').write_bytes(b'not a video' * 20)
    cfg_path, ckpt_path = write_tiny_localization_detector(str(tmp_path))
    out = tmp_path / 'loc.jsonl'
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'infer.py'), cfg_path, ckpt_path,
         str(root / 'val'), '--relative-to', str(root / 'val'), '--localize', '--metadata',
         str(root / 'val_metadata.json'), '--out', str(out), '--no-progress'],
        cwd=str(tmp_path), env=dict(os.environ, OMP_NUM_THREADS='1'), capture_output=True,
        text=True, timeout=300)
    assert proc.returncode == 3, proc.stderr[-3000:]  # the broken file failed, the rest ran
    assert '2 video(s) localised, 1 failed' in proc.stderr
    rows = {r['file']: r for r in map(json.loads, out.read_text().splitlines())}
    assert rows['broken.mp4']['error'] is not None and rows['broken.mp4']['segments'] is None
    row = rows[fake['file']]
    assert row['error'] is None
    assert row['fake_segments'] == fake['fake_segments']
    assert rows[meta[0]['file']]['fake_segments'] == []
    segs = row['segments']
    assert 1 <= len(segs) <= 100 and all(len(s) == 3 for s in segs)
    assert all(a[0] >= b[0] for a, b in zip(segs, segs[1:]))
    assert all(0.0 <= s[1] < s[2] <= 20.0 for s in segs)
    # The timeline covers the whole 20 s video, one score per frame.
    assert len(row['frame_times']) == len(row['frame_scores']) == 500
    assert row['frame_times'][0] == 0.02 and row['frame_times'][-1] == 19.98
    assert row['duration'] == 20.0 and 0.0 <= row['score'] <= 1.0
    png = row['timeline']
    assert png.endswith('.png') and osp.dirname(png) == str(tmp_path / 'loc_timelines')
    with open(png, 'rb') as f:
        assert f.read(8) == b'\x89PNG\r\n\x1a\n'
    assert len(os.listdir(tmp_path / 'loc_timelines')) == 2
    errors = tmp_path / 'loc.errors.jsonl'
    assert [json.loads(x)['file'] for x in errors.read_text().splitlines()] == ['broken.mp4']
