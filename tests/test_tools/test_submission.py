"""tools/test.py --submission: format, order and count on the synthetic testA list; metrics
JSON, ROC image and the leading-silence audit on the labeled val subset."""

import json
import os
import os.path as osp
import re
import runpy
import subprocess
import sys

import pytest

from holaframe.evaluation import read_submission
from holaframe.evaluation.submission import format_score, write_submission
from holaframe.testing import write_tiny_detector

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LINE = re.compile(r'^[^;\n]+;(0(\.\d+)?|1(\.0+)?)$')


def _run_test_tool(tmp_path, cfg_path, ckpt_path, work_dir, *extra, status=0):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'test.py'), cfg_path, ckpt_path, '--work-dir',
         work_dir, *extra], cwd=str(tmp_path), env=env, capture_output=True, text=True,
        timeout=400)
    assert proc.returncode == status, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc


@pytest.mark.slow
def test_submission_on_testA(tmp_path, synthetic_avdf_root):
    cfg_path, ckpt_path = write_tiny_detector(str(tmp_path), synthetic_avdf_root, 'testA')
    sub = tmp_path / 'out' / 'testA_submission.txt'
    _run_test_tool(tmp_path, cfg_path, ckpt_path, str(tmp_path / 'work'), '--submission',
                   str(sub))
    expected = [line.strip() for line in
                open(osp.join(synthetic_avdf_root, 'testA_files.txt')) if line.strip()]
    text = sub.read_text()
    assert text.endswith('\n') and '\r' not in text
    lines = text.splitlines()
    assert len(lines) == len(expected) == 6
    assert all(LINE.match(line) for line in lines), lines
    assert [line.split(';')[0] for line in lines] == expected  # the file-list order
    metrics = json.loads((tmp_path / 'work' / 'metrics.json').read_text())
    assert metrics['submission/num_lines'] == 6
    assert not (tmp_path / 'work' / 'roc.png').exists()  # unlabeled: no ROC


def test_val_metrics_roc_and_leading_silence_audit(tmp_path, synthetic_avdf_root, monkeypatch):
    cfg_path, ckpt_path = write_tiny_detector(str(tmp_path), synthetic_avdf_root, 'val')
    work = tmp_path / 'work'
    # In-process (the subprocess form is covered above): saves the start-up time.
    tool = runpy.run_path(osp.join(REPO, 'tools', 'test.py'), run_name='holaframe_test_tool')
    monkeypatch.setattr(sys, 'argv', [
        'test.py', cfg_path, ckpt_path, '--work-dir', str(work), '--submission',
        str(tmp_path / 'val.txt'), '--leading-silence-audit', '--out',
        str(tmp_path / 'preds.json'), '--dump', str(tmp_path / 'dump.pkl')
    ])
    assert tool['main']() == 0
    metrics = json.loads((work / 'metrics.json').read_text())
    for key in ('video/auc', 'video/acc', 'video/wa_f1', 'video/uar', 'video/silence/leak_auc',
                'trimmed/auc', 'trimmed/acc'):
        assert key in metrics, sorted(metrics)
    assert 0.0 <= metrics['video/auc'] <= 1.0
    assert any(k.startswith('video/modify_type/') for k in metrics)
    assert (work / 'roc.png').read_bytes()[:4] == b'\x89PNG'
    assert (work / 'roc_trimmed.png').exists()
    scores = [json.loads(x) for x in (work / 'scores.jsonl').read_text().splitlines()]
    entries = read_submission(str(tmp_path / 'val.txt'))
    assert len(entries) == len(scores) == metrics['video/num_clips']
    by_file = {s['file']: s['score'] for s in scores}
    assert all(abs(by_file[f] - s) < 1e-6 for f, s in entries)
    # --out: compact JSON records in dataset order; --dump: every field, pickle as asked.
    preds = json.loads((tmp_path / 'preds.json').read_text())
    assert [p['file'] for p in preds] == [f for f, _ in entries]
    assert set(preds[0]) == {'file', 'sample_idx', 'pred_score', 'pred_label', 'gt_label',
                             'load_error'}
    assert all(abs(p['pred_score'] - by_file[p['file']]) < 1e-6 for p in preds)
    import pickle
    with open(tmp_path / 'dump.pkl', 'rb') as f:
        dump = pickle.load(f)
    assert len(dump) == len(preds) and 'pred_score' in dump[0] and 'filename' in dump[0]
    assert (work / 'errors.jsonl').read_text() == ''


def test_submission_writer_format(tmp_path):
    path = str(tmp_path / 'sub.txt')
    write_submission(path, [('a/1.mp4', 1.0), ('b.mp4', 1e-10), ('c.mp4', 0.123456789)])
    assert open(path).read() == 'a/1.mp4;1.0\nb.mp4;0.0000000001\nc.mp4;0.12345679\n'
    assert format_score(0.5) == '0.5'
    with pytest.raises(ValueError, match='probability'):
        write_submission(path, [('a.mp4', 1.5)])
    with pytest.raises(ValueError, match='twice'):
        write_submission(path, [('a.mp4', 0.5), ('a.mp4', 0.5)])
    with pytest.raises(ValueError, match='Invalid'):
        write_submission(path, [('a;b.mp4', 0.5)])


@pytest.mark.slow
def test_submission_with_an_unreadable_testA_clip(tmp_path, synthetic_avdf_root):
    """One corrupt clip must not cost the run: its line gets the fallback score, every other
    clip its prediction, the clip is in the error report and the exit status is 3."""
    import shutil
    root = str(tmp_path / 'data')
    shutil.copytree(synthetic_avdf_root, root)
    expected = [line.strip() for line in open(osp.join(root, 'testA_files.txt')) if line.strip()]
    open(osp.join(root, 'testA', expected[2]), 'wb').close()  # zero-byte file
    cfg_path, ckpt_path = write_tiny_detector(str(tmp_path), root, 'testA')
    sub = tmp_path / 'testA_submission.txt'
    work = tmp_path / 'work'
    proc = _run_test_tool(tmp_path, cfg_path, ckpt_path, str(work), '--submission', str(sub),
                          '--out', str(tmp_path / 'preds.json'), status=3)
    assert '1 clip(s) could not be scored' in proc.stderr
    lines = [line.split(';') for line in sub.read_text().splitlines()]
    assert [f for f, _ in lines] == expected
    assert float(lines[2][1]) == 0.5
    bad = (work / 'bad_samples.txt').read_text()
    assert expected[2] in bad and 'zero-byte' in bad
    errors = [json.loads(x) for x in (work / 'errors.jsonl').read_text().splitlines()]
    assert [e['file'] for e in errors] == [expected[2]] and 'zero-byte' in errors[0]['error']
    preds = json.loads((tmp_path / 'preds.json').read_text())
    assert [p['file'] for p in preds] == expected
    assert preds[2]['load_error'] and all(p['load_error'] is None for i, p in enumerate(preds)
                                          if i != 2)
    assert json.loads((work / 'metrics.json').read_text())['errors/num_failed'] == 1
