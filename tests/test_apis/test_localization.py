"""localize_detector on a whole video; metadata lookup for the timelines."""

import json

import pytest

from holaframe.apis import init_detector, localize_detector
from holaframe.apis.localization import match_metadata, read_segment_metadata
from holaframe.testing import make_indexed_clip
from holaframe.testing.tiny_localization_detector import write_tiny_localization_detector


def test_localize_detector_whole_video(tmp_path):
    cfg, ckpt = write_tiny_localization_detector(str(tmp_path))
    model = init_detector(cfg, ckpt)
    clip = str(tmp_path / 'clip.mp4')
    make_indexed_clip(clip, num_frames=90, size=64)
    entry = localize_detector(model, clip)
    assert entry['error'] is None, entry['error']
    assert len(entry['frame_scores']) == len(entry['frame_times']) == 90
    assert entry['duration'] == pytest.approx(90 / 25)
    assert 1 <= len(entry['segments']) <= 100
    missing = localize_detector(model, [str(tmp_path / 'missing.mp4')])[0]
    assert 'no such file' in missing['error'] and missing['segments'] is None


def test_detection_only_model_is_refused(tmp_path):
    cfg, ckpt = write_tiny_localization_detector(str(tmp_path), localize=False)
    model = init_detector(cfg, ckpt)
    clip = str(tmp_path / 'clip.mp4')
    make_indexed_clip(clip, num_frames=40, size=64)
    assert 'predicts no segments' in localize_detector(model, clip)['error']


def test_metadata_lookup(tmp_path):
    path = tmp_path / 'val_metadata.json'
    path.write_text(json.dumps([dict(file='a/b/fake.mp4', fake_segments=[[1, 1.5]]),
                                dict(file='a/b/real.mp4', fake_segments=[])]))
    segs = read_segment_metadata(str(path))
    assert segs == {'a/b/fake.mp4': [[1.0, 1.5]], 'a/b/real.mp4': []}
    assert match_metadata('a/b/fake.mp4', segs) == [[1.0, 1.5]]
    assert match_metadata('/data/val/a/b/real.mp4', segs) == []
    assert match_metadata('other.mp4', segs) is None
    path.write_text('{}')
    with pytest.raises(ValueError, match='JSON list'):
        read_segment_metadata(str(path))
