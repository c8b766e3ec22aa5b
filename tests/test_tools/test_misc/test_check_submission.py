"""tools/misc/check_submission.py: every problem class of Track 1 and Track 2 files is named
with its line / video and fails the run; --metadata scores with intervals; --json keys."""

import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from holaframe.evaluation import localization_metrics, rank_auc

REPO = Path(__file__).resolve().parents[3]
TOOL = REPO / 'tools' / 'misc' / 'check_submission.py'
FILES = ['a/1.mp4', 'a/2.mp4', 'b/3.mp4', 'b/4.mp4']
SEGMENTS = {'a/1.mp4': [[1.0, 2.0]], 'a/2.mp4': [], 'b/3.mp4': [[0.5, 1.5], [3.0, 3.5]],
            'b/4.mp4': []}


@pytest.fixture(scope='module')
def main():
    return runpy.run_path(str(TOOL), run_name='check_submission')['main']


@pytest.fixture
def files(tmp_path):
    (tmp_path / 'list.txt').write_text(''.join(f + '\n' for f in FILES))
    (tmp_path / 'meta.json').write_text(json.dumps(
        [dict(file=f, fake_segments=s, modify_type='x') for f, s in SEGMENTS.items()]))
    return tmp_path


def _run(main, capsys, path, files, *extra):
    code = main([str(path), '--list', str(files / 'list.txt'), *extra])
    out = capsys.readouterr()
    return code, out.out + out.err


GOOD_T1 = 'a/1.mp4;0.9\na/2.mp4;0.2\nb/3.mp4;0.6\nb/4.mp4;0.7\n'


def test_good_track1_and_its_auc(main, capsys, files):
    path = files / 'sub.txt'
    path.write_text(GOOD_T1)
    code, out = _run(main, capsys, path, files)
    assert code == 0 and 'OK (Track 1, 4 listed videos' in out
    code, out = _run(main, capsys, path, files, '--metadata', str(files / 'meta.json'),
                     '--json', '--num-resamples', '200')
    result = json.loads(out)
    assert code == 0 and result['track'] == 1 and result['problems'] == []
    # Fakes 0.9, 0.6 against reals 0.2, 0.7: 3 of 4 pairs ordered.
    assert result['auc']['value'] == pytest.approx(0.75)
    assert result['auc']['value'] == pytest.approx(rank_auc([1, 0, 1, 0], [0.9, 0.2, 0.6, 0.7]))
    low, high = result['auc']['ci95']
    assert 0.0 <= low <= 0.75 <= high <= 1.0


@pytest.mark.parametrize('text, expected', [
    ('a/1.mp4 0.9\n', ':1: expected "<file>;<score>"'),
    ('a/1.mp4;high\n', ":1: a/1.mp4: score 'high' is not a number"),
    ('a/1.mp4;1.5\n', ':1: a/1.mp4: score 1.5 is not a probability'),
    ('a/1.mp4;nan\n', ':1: a/1.mp4: score nan is not a probability'),
    ('a/1.mp4;0.9\na/1.mp4;0.8\n', ':2: a/1.mp4 is given twice (first on line 1)'),
    ('', "video 'b/4.mp4': listed but missing"),
    ('x.mp4;0.5\n', "video 'x.mp4': not in the list"),
])
def test_track1_problems(main, capsys, files, text, expected):
    path = files / 'sub.txt'
    good = [line for line in GOOD_T1.splitlines(True)
            if line.split(';')[0] not in text and 'missing' not in expected]
    path.write_text(text + ''.join(good))
    code, out = _run(main, capsys, path, files)
    assert code == 1 and expected in out, out


def test_blank_lines_are_accepted_and_one_class_is_not_scored(main, capsys, files):
    path = files / 'sub.txt'
    path.write_text(GOOD_T1.replace('\n', '\n\n', 1) + '\n')
    code, out = _run(main, capsys, path, files)
    assert code == 0 and 'OK (Track 1' in out
    meta = files / 'reals.json'
    meta.write_text(json.dumps([dict(file=f, fake_segments=[]) for f in FILES]))
    with pytest.raises(SystemExit, match='cannot score the submission: .*class'):
        main([str(path), '--list', str(files / 'list.txt'), '--metadata', str(meta)])


def test_invalid_utf8_is_reported_with_its_line(main, capsys, files):
    path = files / 'sub.txt'
    path.write_bytes(GOOD_T1.encode() + b'c/\xff.mp4;0.5\n')
    code, out = _run(main, capsys, path, files)
    assert code == 1 and ':5: not valid UTF-8' in out and 'not in the list' in out


def _good_track2():
    return {'a/1.mp4': [[0.9, 1.0, 2.0], [0.1, 4.0, 5.0]], 'a/2.mp4': [[0.8, 0.0, 1.0]],
            'b/3.mp4': [[0.7, 0.5, 1.5], [0.6, 3.0, 3.4]], 'b/4.mp4': [[0.2, 2.0, 3.0]]}


def test_good_track2_and_its_scores(main, capsys, files):
    path = files / 'sub.json'
    path.write_text(json.dumps(_good_track2()))
    code, out = _run(main, capsys, path, files)
    assert code == 0 and 'OK (Track 2' in out
    code, out = _run(main, capsys, path, files, '--metadata', str(files / 'meta.json'),
                     '--json', '--num-resamples', '200')
    result = json.loads(out)
    assert code == 0 and result['track'] == 2 and result['num_videos'] == 4
    assert set(result) >= {'ap', 'ar', 'score', 'mean_ap', 'mean_ar', 'problems'}
    assert list(result['ap']) == ['0.5', '0.75', '0.9', '0.95']
    assert list(result['ar']) == ['50', '30', '20', '10', '5']
    ref = localization_metrics([_good_track2()[f] for f in FILES], [SEGMENTS[f] for f in FILES])
    assert result['score']['value'] == pytest.approx(ref['score'])
    assert result['ap']['0.9']['value'] == pytest.approx(ref['ap'][0.9])
    assert result['ar']['5']['value'] == pytest.approx(ref['ar'][5])
    for entry in [result['score'], *result['ap'].values(), *result['ar'].values()]:
        assert entry['ci95'][0] <= entry['value'] <= entry['ci95'][1]
    # The plain output names every metric.
    code, out = _run(main, capsys, path, files, '--metadata', str(files / 'meta.json'),
                     '--num-resamples', '50')
    assert 'ap@0.95' in out and 'ar@50' in out and 'score' in out


@pytest.mark.parametrize('edit, expected', [
    (lambda d: d.update({'a/1.mp4': []}), "video 'a/1.mp4': no proposal"),
    (lambda d: d.update({'a/1.mp4': [[0.9, 1.0]]}), 'proposal 0 is not [confidence, start, end]'),
    (lambda d: d.update({'a/1.mp4': [[0.9, 1.0, 'x']]}), 'proposal 0 is not [confidence'),
    (lambda d: d.update({'a/1.mp4': [[1.2, 1.0, 2.0]]}), 'confidence 1.2 is not in [0, 1]'),
    (lambda d: d.update({'a/1.mp4': [[0.9, 2.0, 2.0]]}), 'start 2.0 is not before end 2.0'),
    (lambda d: d.update({'a/1.mp4': [[0.1, 1.0, 2.0], [0.9, 4.0, 5.0]]}),
     'not sorted by confidence (descending): proposal 1 (0.9) follows 0.1'),
    (lambda d: d.update({'a/1.mp4': [[float('nan'), 1.0, 2.0]]}), 'not finite'),
    (lambda d: d.pop('b/4.mp4'), "video 'b/4.mp4': listed but missing"),
    (lambda d: d.update({'z.mp4': [[0.5, 0.0, 1.0]]}), "video 'z.mp4': not in the list"),
])
def test_track2_problems(main, capsys, files, edit, expected):
    data = _good_track2()
    edit(data)
    path = files / 'sub.json'
    path.write_text(json.dumps(data))  # NaN is written as the non-JSON literal NaN
    code, out = _run(main, capsys, path, files)
    assert code == 1 and expected in out, out
    code, out = _run(main, capsys, path, files, '--json')
    assert code == 1 and any(expected in p for p in json.loads(out)['problems'])


def test_track2_file_level_problems(main, capsys, files):
    path = files / 'sub.json'
    path.write_text('{"a/1.mp4": [[0.9, 1.0, 2.0]], "a/1.mp4": [[0.8, 1.0, 2.0]]}')
    code, out = _run(main, capsys, path, files)
    assert code == 1 and "video 'a/1.mp4': given twice" in out
    path.write_text('{"a/1.mp4": [[0.9, 1.0, 2.0]],\n "a/2.mp4": [[0.8, 1.0 2.0]]}')
    code, out = _run(main, capsys, path, files)
    assert code == 1 and 'sub.json:2:' in out and 'not valid JSON' in out
    path.write_text('[["a/1.mp4", 0.9, 1.0, 2.0]]')
    code, out = _run(main, capsys, path, files)
    assert code == 1 and 'expected a JSON object' in out
    path.write_bytes(b'{"a/\xff.mp4": [[0.9, 1.0, 2.0]]}')
    code, out = _run(main, capsys, path, files)
    assert code == 1 and 'sub.json:1: not valid UTF-8' in out


def test_problems_are_not_scored(main, capsys, files):
    data = _good_track2()
    data['a/1.mp4'] = []
    path = files / 'sub.json'
    path.write_text(json.dumps(data))
    code, out = _run(main, capsys, path, files, '--metadata', str(files / 'meta.json'),
                     '--json')
    result = json.loads(out)
    assert code == 1 and 'score' not in result and len(result['problems']) == 1


def test_command_line_exit_status(files):
    path = files / 'sub.txt'
    path.write_text(GOOD_T1.replace('0.7', '7'))
    proc = subprocess.run([sys.executable, str(TOOL), str(path), '--list',
                           str(files / 'list.txt')], capture_output=True, text=True,
                          timeout=120, cwd=REPO)
    assert proc.returncode == 1
    assert f'{path}:4: b/4.mp4: score 7 is not a probability in [0, 1]' in proc.stdout
