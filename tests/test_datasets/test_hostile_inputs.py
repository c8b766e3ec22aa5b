"""Hostile inputs, one table row each: every row names its outcome (an error naming the file and
the cause, recorded and skipped; or a stated, deliberate repair), nothing else in the batch is
lost, and the error reports list every failure. docs/reliability.md shows the same table."""

import json
import os
import os.path as osp
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from holaframe.datasets import AVDeepfake1MDataset
from holaframe.testing import hostile_inputs as hi
from holaframe.testing import tiny_config, tiny_pipeline, write_tiny_detector
from holaframe.utils import register_all_modules

REPO = Path(__file__).resolve().parents[2]
NON_UTF8 = os.fsdecode(b'name_\xff\xfe_latin1.mp4')
LONG_NAME = 'L' * 251 + '.mp4'  # 255 bytes: the longest name ext4 allows
TOO_LONG = 'T' * 300 + '.mp4'  # cannot exist


def _good(d, name):
    return hi.write_clip(osp.join(d, name))


# Each row: (id, what is wrong, how to make it, outcome, detail). ``make(d)`` writes into the
# subset folder ``d`` and returns (file, metadata entry); outcome is 'error' (the file/entry
# is skipped and recorded: detail is a piece of the message, ``stage`` says when) or 'repair'
# (scored; detail is the check of the deliberate repair on the packed data sample).
ROWS = [
    ('zero_byte', 'empty file', lambda d: hi.write_zero_byte(osp.join(d, 'zero.mp4')),
     'error', ('decode', 'zero-byte file')),
    ('random_bytes', 'random bytes named .mp4',
     lambda d: hi.write_random_bytes(osp.join(d, 'random.mp4')),
     'error', ('decode', 'cannot decode video')),
    ('truncated_head', 'only the first half of the file (end cut off, index lost)',
     lambda d: hi.write_cut(osp.join(d, 'head.mp4'), _good(d, '_src1.mp4'), 'head'),
     'error', ('decode', 'cannot decode video')),
    ('truncated_tail', 'only the second half of the file (start cut off)',
     lambda d: hi.write_cut(osp.join(d, 'tail.mp4'), _good(d, '_src2.mp4'), 'tail'),
     'error', ('decode', 'cannot decode video')),
    ('index_truncated', 'index at the start lists 100 frames, the data holds half',
     lambda d: hi.write_index_truncated(osp.join(d, 'index_truncated.mp4')),
     'error', ('decode', 'truncated: the index lists 100 frames')),
    ('no_audio', 'no audio stream', lambda d: hi.write_clip(osp.join(d, 'no_audio.mp4'),
                                                            audio=False),
     'repair', lambda s: s.has_audio is False),  # silent audio, has_audio False
    ('audio_only', 'audio stream only', lambda d: hi.write_audio_only(osp.join(d, 'audio.mp4')),
     'error', ('decode', 'no video stream')),
    ('one_frame', 'a single frame', lambda d: hi.write_clip(osp.join(d, 'one.mp4'), 1),
     'repair', lambda s: s.num_frames == 1 and [int(i) for i in s.frame_inds] == [0] * 4),
    ('variable_frame_rate', 'frame durations 20 ms and 100 ms',
     lambda d: hi.write_variable_frame_rate(osp.join(d, 'vfr.mp4')),
     'repair', lambda s: s.num_frames == 50 and 10 < s.avg_fps < 40),  # average rate used
    ('fps60', '60 frames per second', lambda d: hi.write_clip(osp.join(d, 'fps60.mp4'), 120,
                                                              fps=60),
     'repair', lambda s: s.avg_fps == 60 and s.num_frames == 120),
    ('uhd_4k', '3840 x 2160 frames', lambda d: hi.write_uhd(osp.join(d, 'uhd.mp4')),
     'repair', lambda s: tuple(s.source_shape) == (2160, 3840)
     and tuple(s.decode_size) == (1920, 1080)),  # decoded at max_side
    ('ten_minutes', 'a 10-minute clip', lambda d: hi.write_long(osp.join(d, 'long.mp4')),
     'error', ('decode', 'exceeds the limit of 300 s (max_duration)')),
    ('corrupt_audio_packets', '3 of 33 audio packets overwritten',
     lambda d: hi.write_corrupt_audio(osp.join(d, 'bad_packets.mp4'), 10, 3),
     'repair', lambda s: s.has_audio and s.audio_corrupt_packets == 3),  # silence, aligned
    ('corrupt_audio_most', '17 of 33 audio packets overwritten',
     lambda d: hi.write_corrupt_audio(osp.join(d, 'bad_audio.mp4'), 3, 17),
     'error', ('decode', 'audio packets could not be decoded')),
    ('non_utf8_name', 'file name that is not valid UTF-8',
     lambda d: hi.write_clip(osp.join(d, NON_UTF8)), 'repair', lambda s: s.file == NON_UTF8),
    ('long_name', '255-byte file name', lambda d: hi.write_clip(osp.join(d, LONG_NAME)),
     'repair', lambda s: s.file == LONG_NAME),
    ('name_too_long', 'listed name longer than the file system allows', lambda d: TOO_LONG,
     'error', ('decode', 'file name too long')),
    ('symlink_loop', 'two symbolic links pointing at each other',
     lambda d: hi.write_symlink_loop(osp.join(d, 'loop.mp4')),
     'error', ('decode', 'symbolic link loop')),
    ('segments_null', 'fake_segments: null',
     lambda d: (_good(d, 'seg_null.mp4'), dict(fake_segments=None)),
     'error', ('metadata', 'fake_segments is null')),
    ('segments_flat', 'fake_segments: [0.1, 0.5]',
     lambda d: (_good(d, 'seg_flat.mp4'), dict(fake_segments=[0.1, 0.5])),
     'error', ('metadata', 'flat list')),
    ('segments_out_of_range', 'fake_segments: [[1.5, 9.0]] in a 2 s clip',
     lambda d: (_good(d, 'seg_range.mp4'), dict(fake_segments=[[1.5, 9.0]])),
     'repair', lambda s: s.fake_segments == [[1.5, 2.0]] and s.gt_label.item() == 1),
    ('segments_outside', 'fake_segments: [[5.0, 6.0]] in a 2 s clip',
     lambda d: (_good(d, 'seg_outside.mp4'), dict(fake_segments=[[5.0, 6.0]])),
     'error', ('metadata', 'lies outside the clip')),
    ('segments_reversed', 'fake_segments: [[0.8, 0.2]]',
     lambda d: (_good(d, 'seg_reversed.mp4'), dict(fake_segments=[[0.8, 0.2]])),
     'error', ('metadata', 'ends before it starts')),
    ('missing_field', 'entry without fake_segments',
     lambda d: (_good(d, 'no_field.mp4'), dict(fake_segments=KeyError)),
     'error', ('metadata', "missing field(s) ['fake_segments']")),
]
GOOD = ['good_real.mp4', 'good_fake.mp4', 'dup.mp4']


def build_subset(root: str) -> dict:
    """The ``val`` subset: 3 good clips (one listed twice), then one entry per row."""
    d = osp.join(root, 'val')
    os.makedirs(d)
    entries, files = [], {}
    for name in GOOD:
        _good(d, name)
        entries.append(dict(file=name, fake_segments=[[0.2, 0.8]] if 'fake' in name else [],
                            video_frames=50))
    entries.append(dict(entries[2]))  # duplicate entry of dup.mp4
    for row_id, _, make, _, _ in ROWS:
        made = make(d)
        path, extra = made if isinstance(made, tuple) else (made, {})
        file = osp.relpath(path, d) if osp.isabs(path) else path
        entry = dict(file=file, fake_segments=[], video_frames=50)
        for key, value in extra.items():
            if value is KeyError:
                entry.pop(key)
            else:
                entry[key] = value
        entries.append(entry)
        files[row_id] = file
    with open(osp.join(root, 'val_metadata.json'), 'w') as f:
        json.dump(entries, f)
    return files


@pytest.fixture(scope='module')
def hostile_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('hostile'))
    return root, build_subset(root)


@pytest.fixture(scope='module')
def loaded(hostile_root, tmp_path_factory):
    root, files = hostile_root
    register_all_modules(init_default_scope=False)
    work = str(tmp_path_factory.mktemp('hostile_work'))
    ds = AVDeepfake1MDataset(data_root=root, subset='val', pipeline=tiny_pipeline(),
                             test_mode=True, skip_bad_samples=True, work_dir=work)
    samples = {}
    for idx in range(len(ds)):
        sample = ds[idx]['data_samples']
        samples[sample.file] = sample
    return ds, samples, files, work


@pytest.mark.parametrize('row', ROWS, ids=[r[0] for r in ROWS])
def test_row_outcome(loaded, row):
    ds, samples, files, _ = loaded
    row_id, _, _, outcome, detail = row
    file = files[row_id]
    if outcome == 'repair':
        sample = samples[file]
        assert sample.metainfo.get('load_error') is None, sample.load_error
        assert detail(sample), (row_id, sample.metainfo)
        return
    stage, cause = detail
    if stage == 'metadata':
        assert file not in samples
        failures = [f for f in ds.metainfo['load_failures'] if f['file'] == file]
        assert len(failures) == 1 and cause in failures[0]['error'], failures
        assert 'val_metadata.json' in failures[0]['error']
    else:
        error = samples[file].load_error
        assert cause in error and error.startswith(osp.join(ds.data_root, 'val', file)), error


def test_nothing_else_is_lost_and_every_failure_is_recorded(loaded):
    ds, samples, files, work = loaded
    for name in GOOD:
        assert samples[name].metainfo.get('load_error') is None
    errors = {r[0] for r in ROWS if r[3] == 'error'}
    decode = {files[r] for r in errors if dict((x[0], x[4]) for x in ROWS)[r][0] == 'decode'}
    metadata = {files[r] for r in errors} - decode
    # The duplicate entry: the clip is scored once, the repeat is a recorded load failure.
    dup = [f for f in ds.metainfo['load_failures'] if f['file'] == 'dup.mp4']
    assert len(dup) == 1 and 'repeats the file of entry 2' in dup[0]['error']
    assert {f['file'] for f in ds.metainfo['load_failures']} == metadata | {'dup.mp4'}
    assert {f for f, s in samples.items() if s.metainfo.get('load_error')} == decode
    assert len(samples) == len(GOOD) + len(ROWS) - len(metadata)
    recorded = open(osp.join(work, 'bad_samples.txt'), encoding='utf-8').read().splitlines()
    assert len(recorded) == len(errors) + 1  # every failure, and the duplicate


def test_limits_are_config_options(hostile_root, tmp_path):
    """max_duration, max_side and max_file_size_mb of DecordInit (defaults 300 s, 1920 px,
    1024 MiB) are ordinary config options."""
    from mmengine.dataset import Compose

    from holaframe.datasets.io import BadSampleError
    from holaframe.registry import TRANSFORMS
    root, files = hostile_root
    register_all_modules(init_default_scope=False)

    def run(path, **limits):
        pipeline = tiny_pipeline()
        pipeline[0] = dict(type='DecordInit', **limits)
        return Compose([TRANSFORMS.build(t) for t in pipeline])(
            dict(filename=osp.join(root, 'val', path), file=path))['data_samples']

    assert run(files['ten_minutes'], max_duration=None).num_frames == 600  # no limit: scored
    with pytest.raises(BadSampleError, match='exceeds the limit of 0.1 MB'):
        run(files['ten_minutes'], max_duration=None, max_file_size_mb=0.1)
    assert tuple(run(files['uhd_4k'], max_side=64).decode_size) == (64, 36)


@pytest.mark.slow
def test_tools_on_the_hostile_batch(hostile_root, tmp_path):
    """tools/test.py on the subset and tools/infer.py on its folder: every listed clip has its
    line, failures are in the JSON-lines error report, the exit status is 3."""
    root, files = hostile_root
    cfg_path, ckpt_path = write_tiny_detector(str(tmp_path), root, 'val')
    env = dict(os.environ, OMP_NUM_THREADS='1')
    work, sub = tmp_path / 'work', tmp_path / 'val_submission.txt'
    proc = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'test.py'), cfg_path, ckpt_path, '--work-dir',
         str(work), '--out', str(tmp_path / 'preds.json'), '--submission', str(sub)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 3, proc.stderr[-4000:]
    errors = [json.loads(x) for x in (work / 'errors.jsonl').read_text().splitlines()]
    failed = {r[0] for r in ROWS if r[3] == 'error'}
    assert {e['file'] for e in errors} == {files[r] for r in failed} | {'dup.mp4'}
    assert all(e['error'] for e in errors)
    preds = json.loads((tmp_path / 'preds.json').read_text())
    scored = {p['file'] for p in preds if p['load_error'] is None}
    assert scored == set(GOOD) | {files[r[0]] for r in ROWS if r[3] == 'repair'}
    lines = sub.read_bytes().decode('utf-8', 'surrogateescape').splitlines()
    assert len(lines) == len(preds)  # one line per clip the dataset lists
    assert any(line.startswith(NON_UTF8 + ';') for line in lines)
    metrics = json.loads((work / 'metrics.json').read_text())
    assert metrics['errors/num_failed'] == len(errors)

    # tools/infer.py on the folder: one submission line per video file found.
    folder = tmp_path / 'folder'
    shutil.copytree(osp.join(root, 'val'), folder, symlinks=True)
    infer_sub = tmp_path / 'infer_submission.txt'
    proc = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'infer.py'), cfg_path, ckpt_path, str(folder),
         '--relative-to', str(folder), '--submission', str(infer_sub), '--no-progress'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400)
    assert proc.returncode == 3, proc.stderr[-4000:]
    listed = sorted(osp.relpath(osp.join(r, n), folder) for r, _, names in os.walk(folder)
                    for n in names if n.endswith('.mp4'))
    lines = infer_sub.read_bytes().decode('utf-8', 'surrogateescape').splitlines()
    assert sorted(line.rsplit(';', 1)[0] for line in lines) == listed
    report = [json.loads(x) for x in (tmp_path / 'infer_submission.errors.jsonl')
              .read_text().splitlines()]
    decode_failed = {files[r[0]] for r in ROWS if r[3] == 'error' and r[4][0] == 'decode'
                     and r[0] != 'name_too_long'}
    assert {e['file'] for e in report} == decode_failed
    by_file = dict(line.rsplit(';', 1) for line in lines)
    assert all(float(by_file[f]) == 0.5 for f in decode_failed)


def test_test_subset_file_list_with_a_non_utf8_name(tmp_path):
    """An unlabeled subset whose file list holds a name that is not valid UTF-8 loads."""
    from holaframe.datasets import AVDeepfake1MTestDataset
    register_all_modules(init_default_scope=False)
    d = tmp_path / 'testA'
    d.mkdir()
    hi.write_clip(osp.join(str(d), NON_UTF8))
    (tmp_path / 'testA_files.txt').write_bytes(os.fsencode(NON_UTF8) + b'\n')
    ds = AVDeepfake1MTestDataset(data_root=str(tmp_path), subset='testA',
                                 pipeline=tiny_config(str(tmp_path)).test_dataloader.dataset
                                 .pipeline)
    assert ds[0]['data_samples'].file == NON_UTF8
