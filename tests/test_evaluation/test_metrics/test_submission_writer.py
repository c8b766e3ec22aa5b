"""SubmissionWriter: file-list order, deduplication, count check; the file format functions."""

import pytest

from holaframe.evaluation import SubmissionWriter, read_submission
from holaframe.structures import AVDataSample


def _samples(files, scores, idx):
    out = []
    for f, s, i in zip(files, scores, idx):
        ds = AVDataSample(metainfo=dict(file=f, sample_idx=i)).set_gt_label(-1)
        out.append(ds.set_pred_score(s))
    return out


def test_sample_idx_order_and_padding(tmp_path):
    writer = SubmissionWriter(out_file=str(tmp_path / 'sub.txt'))
    # Out of order, with a padded duplicate of clip 0 (as the distributed sampler does).
    writer.process({}, _samples(['c.mp4', 'a.mp4', 'b.mp4', 'a.mp4'], [0.3, 0.1, 0.2, 0.1],
                                [2, 0, 1, 0]))
    assert writer.evaluate(3) == {'submission/num_lines': 3}
    assert read_submission(str(tmp_path / 'sub.txt')) == [('a.mp4', pytest.approx(0.1)),
                                                            ('b.mp4', pytest.approx(0.2)),
                                                            ('c.mp4', pytest.approx(0.3))]


def test_file_list_order_and_mismatch(tmp_path):
    file_list = tmp_path / 'list.txt'
    file_list.write_text('b.mp4\na.mp4\n')
    writer = SubmissionWriter(out_file=str(tmp_path / 'sub.txt'), file_list=str(file_list))
    writer.process({}, _samples(['a.mp4', 'b.mp4'], [0.1, 0.2], [0, 1]))
    writer.evaluate(2)
    assert [f for f, _ in read_submission(str(tmp_path / 'sub.txt'))] == ['b.mp4', 'a.mp4']
    writer.process({}, _samples(['a.mp4', 'z.mp4'], [0.1, 0.2], [0, 1]))
    with pytest.raises(ValueError, match='1 missing'):
        writer.evaluate(2)


def test_count_must_match_dataset(tmp_path):
    writer = SubmissionWriter(out_file=str(tmp_path / 'sub.txt'))
    writer.process({}, _samples(['a.mp4'], [0.5], [0]))
    with pytest.raises(RuntimeError, match='dataset has 2'):
        writer.evaluate(2)
    assert not (tmp_path / 'sub.txt').exists()


def test_read_submission_rejects_bad_lines(tmp_path):
    path = tmp_path / 'bad.txt'
    path.write_text('a.mp4;0.5\nb.mp4,0.5\n')
    with pytest.raises(ValueError, match='bad.txt:2'):
        read_submission(str(path))


def test_unreadable_clip_gets_its_line_with_the_fallback_score(tmp_path):
    writer = SubmissionWriter(out_file=str(tmp_path / 'sub.txt'), unreadable_score=0.25)
    samples = _samples(['a.mp4', 'b.mp4'], [0.9, 0.8], [0, 1])
    samples[1].set_metainfo(dict(load_error='b.mp4: zero-byte file'))
    writer.process({}, samples)
    assert writer.evaluate(2) == {'submission/num_lines': 2}
    assert read_submission(str(tmp_path / 'sub.txt')) == [('a.mp4', pytest.approx(0.9)),
                                                            ('b.mp4', pytest.approx(0.25))]
    with pytest.raises(ValueError, match='probability'):
        SubmissionWriter(out_file='x.txt', unreadable_score=2.0)
