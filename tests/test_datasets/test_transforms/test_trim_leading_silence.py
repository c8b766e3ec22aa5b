"""TrimLeadingSilence and the audit config: frames move past the leading silence."""

import numpy as np
import pytest
from mmengine.config import Config

from holaframe.apis.evaluator_setup import add_test_outputs, leading_silence_audit_cfg
from holaframe.datasets.transforms import TrimLeadingSilence

SR, FPS, N = 16000, 25, 100  # a 4 s clip


def _results(onset_s, has_audio=True):
    wave = 0.001 * np.random.default_rng(0).standard_normal(SR * N // FPS).astype(np.float32)
    t = np.arange(wave.size - int(onset_s * SR)) / SR
    wave[int(onset_s * SR):] += 0.5 * np.sin(2 * np.pi * 200 * t)
    return dict(waveform=wave, audio_sr=SR, total_frames=N, avg_fps=FPS, has_audio=has_audio,
                frame_inds=np.array([0, 25, 50, 99]))


def test_frames_move_past_the_silence():
    out = TrimLeadingSilence()(_results(1.0))
    assert out['leading_silence'] == pytest.approx(0.99, abs=0.011)
    start = out['trim_start_frame']
    assert start == 24
    # f0 + floor(i * (n - f0) / n)
    assert out['frame_inds'].tolist() == [24, 24 + 25 * 76 // 100, 24 + 50 * 76 // 100,
                                          24 + 99 * 76 // 100]


def test_no_trim_without_audio_or_when_too_short():
    assert TrimLeadingSilence()(_results(1.0, has_audio=False))['frame_inds'].tolist() == [
        0, 25, 50, 99]
    out = TrimLeadingSilence(min_keep_s=3.5)(_results(1.0))
    assert out['trim_start_frame'] == 0 and out['frame_inds'].tolist() == [0, 25, 50, 99]


def test_audit_cfg_moves_audio_decode_before_frame_decoding(tmp_path):
    cfg = Config(dict(
        test_dataloader=dict(dataset=dict(pipeline=[
            dict(type='DecordInit'), dict(type='UniformSampleFrames', num_frames=4),
            dict(type='DecordDecode'), dict(type='AudioDecode'),
            dict(type='AudioMFCCSegments'), dict(type='PackAVInputs')])),
        test_evaluator=dict(type='VideoMetric')))
    add_test_outputs(cfg, str(tmp_path), submission=str(tmp_path / 's.txt'))
    assert [m['type'] for m in cfg.test_evaluator] == ['VideoMetric', 'SubmissionWriter',
                                                       'ErrorReportWriter']
    assert cfg.test_evaluator[0]['roc_file'] == str(tmp_path / 'roc.png')
    audit = leading_silence_audit_cfg(cfg, str(tmp_path))
    assert [t['type'] for t in audit.test_dataloader.dataset.pipeline] == [
        'DecordInit', 'UniformSampleFrames', 'AudioDecode', 'TrimLeadingSilence',
        'DecordDecode', 'AudioMFCCSegments', 'PackAVInputs']
    assert [m['prefix'] for m in audit.test_evaluator] == ['trimmed']
    assert len(cfg.test_dataloader.dataset.pipeline) == 6  # the original is untouched
