"""Track2SubmissionWriter and the Track 2 file functions: format, order, sorting, count check,
unreadable videos, refusal of malformed proposals; tools/test.py picks it for ``.json``."""

import json

import numpy as np
import pytest
import torch
from mmengine.config import Config

from holaframe.apis.evaluator_setup import add_test_outputs
from holaframe.evaluation import (
    Track2SubmissionWriter,
    localization_metrics,
    read_track2_submission,
    write_track2_submission,
)
from holaframe.structures import AVDataSample


def _samples(files, proposals, idx):
    out = []
    for f, p, i in zip(files, proposals, idx):
        ds = AVDataSample(metainfo=dict(file=f, sample_idx=i)).set_gt_label(-1)
        ds.pred_segments = torch.tensor(p, dtype=torch.float32)
        out.append(ds)
    return out


def test_order_padding_sorting_and_exact_text(tmp_path):
    out = tmp_path / 'sub' / 'track2.json'
    writer = Track2SubmissionWriter(out_file=str(out))
    props = {'a.mp4': [[0.1, 0.0, 1.0]],
             'b.mp4': [[0.2, 3.0, 4.5], [0.7, 1.0, 2.0], [0.2, 0.5, 0.6]],  # unsorted, a tie
             'c.mp4': [[1.0, 0.04, 0.08]]}
    files = ['c.mp4', 'a.mp4', 'b.mp4', 'a.mp4']  # out of order, a padded duplicate
    writer.process({}, _samples(files, [props[f] for f in files], [2, 0, 1, 0]))
    assert writer.evaluate(3) == {'submission/num_videos': 3}
    # float32 values as their shortest decimals: 0.1f32 reads back from "0.1".
    assert out.read_text() == (
        '{\n"a.mp4":[[0.1,0.0,1.0]],\n'
        '"b.mp4":[[0.7,1.0,2.0],[0.2,3.0,4.5],[0.2,0.5,0.6]],\n'
        '"c.mp4":[[1.0,0.04,0.08]]\n}\n')
    entries = read_track2_submission(str(out))
    assert [f for f, _ in entries] == ['a.mp4', 'b.mp4', 'c.mp4']
    assert entries[1][1].dtype == np.float32
    np.testing.assert_array_equal(entries[1][1][:, 0], np.float32([0.7, 0.2, 0.2]))


def test_float32_round_trip_and_unicode_names(tmp_path):
    rng = np.random.default_rng(0)
    props = rng.random((50, 3)).astype(np.float32)
    props[:, 2] = props[:, 1] + 0.5
    path = tmp_path / 's.json'
    write_track2_submission(str(path), [('vidé/ü 1.mp4', props)])
    (name, back), = read_track2_submission(str(path))
    assert name == 'vidé/ü 1.mp4'
    order = np.argsort(-props[:, 0], kind='stable')
    np.testing.assert_array_equal(back, props[order])  # bit-exact float32
    # The metric of what was written equals the metric of the sorted predictions.
    seg = [[0.2, 0.9]]
    assert (localization_metrics([back], [seg]) == localization_metrics([props[order]], [seg]))


def test_file_list_order_and_count_check(tmp_path):
    file_list = tmp_path / 'list.txt'
    file_list.write_text('b.mp4\na.mp4\n')
    out = tmp_path / 't2.json'
    writer = Track2SubmissionWriter(out_file=str(out), file_list=str(file_list))
    writer.process({}, _samples(['a.mp4', 'b.mp4'], [[[0.5, 0.0, 1.0]]] * 2, [0, 1]))
    writer.evaluate(2)
    assert list(json.loads(out.read_text())) == ['b.mp4', 'a.mp4']
    writer.process({}, _samples(['a.mp4', 'z.mp4'], [[[0.5, 0.0, 1.0]]] * 2, [0, 1]))
    with pytest.raises(ValueError, match='1 missing'):
        writer.evaluate(2)
    short = Track2SubmissionWriter(out_file=str(tmp_path / 'short.json'))
    short.process({}, _samples(['a.mp4'], [[[0.5, 0.0, 1.0]]], [0]))
    with pytest.raises(RuntimeError, match='dataset has 2'):
        short.evaluate(2)
    assert not (tmp_path / 'short.json').exists()


def test_unreadable_video_gets_the_fallback_proposal(tmp_path):
    out = tmp_path / 't2.json'
    writer = Track2SubmissionWriter(out_file=str(out), unreadable_proposal=(0.0, 0.0, 2.0))
    samples = _samples(['a.mp4', 'b.mp4'], [[[0.9, 1.0, 2.0]], [[0.8, 1.0, 2.0]]], [0, 1])
    samples[1].set_metainfo(dict(load_error='b.mp4: zero-byte file'))
    writer.process({}, samples)
    writer.evaluate(2)
    assert json.loads(out.read_text()) == {'a.mp4': [[0.9, 1.0, 2.0]],
                                           'b.mp4': [[0.0, 0.0, 2.0]]}
    with pytest.raises(ValueError, match='end after it starts'):
        Track2SubmissionWriter(out_file='x.json', unreadable_proposal=(0.0, 1.0, 1.0))


@pytest.mark.parametrize('proposals, match', [
    (np.zeros((0, 3)), 'no proposal'),
    ([[0.5, 1.0]], r'shape \(N, 3\)'),
    ([[1.5, 0.0, 1.0]], r'\[0, 1\]'),
    ([[0.5, 2.0, 1.0]], 'end after it starts'),
    ([[0.5, 0.0, float('inf')]], 'not finite'),
])
def test_malformed_proposals_are_refused(tmp_path, proposals, match):
    writer = Track2SubmissionWriter(out_file=str(tmp_path / 'x.json'))
    with pytest.raises(ValueError, match=match) as info:
        writer.process({}, _samples(['bad.mp4'], [proposals], [0]))
    assert 'bad.mp4' in str(info.value)


def test_read_refuses_repeated_videos_and_bad_json(tmp_path):
    path = tmp_path / 'r.json'
    path.write_text('{"a.mp4": [[0.5, 0, 1]], "a.mp4": [[0.4, 0, 1]]}')
    with pytest.raises(ValueError, match='a.mp4 appears twice'):
        read_track2_submission(str(path))
    path.write_text('{"a.mp4": [[0.5, 0, 1]]')
    with pytest.raises(ValueError, match='r.json'):
        read_track2_submission(str(path))


def test_test_tool_picks_the_writer_by_extension(tmp_path):
    cfg = Config(dict(test_evaluator=[dict(type='VideoMetric')],
                      test_dataloader=dict(dataset=dict(type='AVDeepfake1MTestDataset'))))
    add_test_outputs(cfg, str(tmp_path), submission=str(tmp_path / 'testA.json'))
    types = [m['type'] for m in cfg.test_evaluator]
    assert 'Track2SubmissionWriter' in types and 'SubmissionWriter' not in types
    cfg = Config(dict(test_evaluator=[dict(type='VideoMetric')],
                      test_dataloader=dict(dataset=dict(type='AVDeepfake1MTestDataset'))))
    add_test_outputs(cfg, str(tmp_path), submission=str(tmp_path / 'testA.txt'))
    types = [m['type'] for m in cfg.test_evaluator]
    assert 'SubmissionWriter' in types and 'Track2SubmissionWriter' not in types
