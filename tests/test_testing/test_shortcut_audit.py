"""shortcut_aucs: a set with a planted shortcut is flagged, the AUC sides are right."""

import json
import os.path as osp

import numpy as np
import pytest

from holaframe.testing import SHORTCUT_FEATURES, shortcut_aucs, write_av_clip


def _clip(root, name, seconds, amp, lead):
    frames = [np.full((32, 32, 3), 128, np.uint8)] * int(seconds * 25)
    t = np.arange(int(seconds * 16000)) / 16000
    audio = amp * np.sin(2 * np.pi * 440 * t)
    audio[:int(lead * 16000)] = 0
    write_av_clip(osp.join(root, 'train', name), frames, audio)
    return dict(file=name, fake_segments=[[0.5, 0.9]] if 'fake' in name else [],
                video_frames=len(frames), audio_frames=len(audio))


def test_planted_shortcuts_are_found(tmp_path):
    root = str(tmp_path)
    meta = [_clip(root, f'real{i}.mp4', 2.0, 0.1, 0.3) for i in range(3)]
    meta += [_clip(root, f'fake{i}.mp4', 3.0, 0.3, 0.0) for i in range(3)]
    with open(osp.join(root, 'train_metadata.json'), 'w') as f:
        json.dump(meta, f)
    aucs = shortcut_aucs(root, 'train')
    assert set(aucs) == set(SHORTCUT_FEATURES)
    # fakes are longer, louder, start loud and weigh more: every feature separates perfectly
    for name in SHORTCUT_FEATURES:
        assert aucs[name] == pytest.approx(1.0), name


def test_missing_metadata_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='val_metadata.json'):
        shortcut_aucs(str(tmp_path), 'val')
