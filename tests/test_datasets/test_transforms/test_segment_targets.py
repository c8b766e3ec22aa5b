"""SegmentTargets: per-frame labels and boundary distances in seconds, bad segments."""

import numpy as np
import pytest

from holaframe.datasets.transforms import SegmentTargets


def _results(segs, frames=100, inds=None, fps=25.0):
    return dict(filename='/data/val/a/fake.mp4', total_frames=frames, avg_fps=fps,
                frame_inds=np.arange(frames) if inds is None else np.asarray(inds),
                fake_segments=segs)


def test_targets_in_seconds():
    out = SegmentTargets()(_results([[1.0, 1.4]]))
    labels, dists = out['frame_labels'], out['loc_targets']
    assert labels.dtype == np.float32 and dists.shape == (100, 2)
    # Centres (f + 0.5) / 25 in [1.0, 1.4): frames 25-34.
    assert np.flatnonzero(labels).tolist() == list(range(25, 35))
    assert dists[25] == pytest.approx([0.02, 0.38])
    assert dists[34] == pytest.approx([0.38, 0.02])
    assert np.all(dists[labels == 0] == 0)
    # The distances add up to the segment's length on every fake frame.
    assert np.allclose(dists[labels == 1].sum(1), 0.4)


def test_window_of_frames_uses_their_own_times():
    out = SegmentTargets()(_results([[1.0, 1.4]], inds=np.arange(20, 40)))
    assert np.flatnonzero(out['frame_labels']).tolist() == list(range(5, 15))
    assert out['loc_targets'][5] == pytest.approx([0.02, 0.38])


def test_real_clip_all_zero():
    out = SegmentTargets()(_results([]))
    assert out['frame_labels'].sum() == 0 and out['loc_targets'].sum() == 0


@pytest.mark.parametrize('seg, match', [([1.0, 1.0], 'start >= end'),
                                        ([2.0, 1.0], 'start >= end'),
                                        ([5.0, 6.0], 'outside the video'),
                                        ([-2.0, -1.0], 'outside the video')])
def test_bad_segments_name_the_file(seg, match):
    with pytest.raises(ValueError, match=match) as info:
        SegmentTargets()(_results([seg]))  # a 4-s clip
    assert '/data/val/a/fake.mp4' in str(info.value)


def test_segment_sticking_out_is_clipped_or_refused():
    out = SegmentTargets()(_results([[3.8, 4.5]]))
    assert out['fake_segments'] == [[3.8, 4.0]]
    assert out['frame_labels'][-5:].tolist() == [1.0] * 5
    with pytest.raises(ValueError, match='sticks out'):
        SegmentTargets(clip_segments=False)(_results([[3.8, 4.5]]))
    # Within half a frame of the end: rounding, accepted as it is (clipped to the end).
    assert SegmentTargets(clip_segments=False)(_results([[3.8, 4.01]]))['fake_segments'] == [
        [3.8, 4.0]]


def test_bad_segment_is_recorded_in_the_error_report(tmp_path):
    """A zero-length segment passes the metadata checks, fails in SegmentTargets, and with
    skip_bad_samples the test dataset returns a placeholder whose error reaches errors.jsonl."""
    import json

    from holaframe.datasets import AVDeepfake1MDataset
    from holaframe.evaluation.metrics import ErrorReportWriter
    from holaframe.testing import make_indexed_clip

    for name in ('good.mp4', 'bad.mp4'):
        make_indexed_clip(str(tmp_path / 'val' / name), num_frames=30, size=32)
    (tmp_path / 'val_metadata.json').write_text(json.dumps([
        dict(file='good.mp4', fake_segments=[[0.4, 0.8]]),
        dict(file='bad.mp4', fake_segments=[[0.4, 0.4]])]))
    pipeline = [dict(type='DecordInit'), dict(type='WholeVideoSampleFrames', min_len=8),
                dict(type='DecordDecode'), dict(type='AudioDecode', sample_rate=16000),
                dict(type='AudioFrameLogMel', n_mels=8, group=4), dict(type='SegmentTargets'),
                dict(type='PackAVInputs')]
    ds = AVDeepfake1MDataset(data_root=str(tmp_path), subset='val', test_mode=True,
                             skip_bad_samples=True, pipeline=pipeline,
                             bad_samples_file=str(tmp_path / 'bad_samples.txt'))
    good, bad = ds[0]['data_samples'], ds[1]['data_samples']
    assert good.frame_labels.sum() == 10 and 'load_error' not in good
    assert 'bad.mp4' in bad.load_error and 'start >= end' in bad.load_error
    assert 'bad.mp4' in (tmp_path / 'bad_samples.txt').read_text()
    report = tmp_path / 'errors.jsonl'
    writer = ErrorReportWriter(out_file=str(report))
    writer.process(None, [good, bad])
    writer.compute_metrics(writer.results)
    rows = [json.loads(x) for x in report.read_text().splitlines()]
    assert [r['file'] for r in rows] == ['bad.mp4'] and 'start >= end' in rows[0]['error']
