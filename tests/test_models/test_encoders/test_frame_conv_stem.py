"""FrameConvStem: shapes, and the per-clip normalisation of ``norm='clip'``."""

import pytest
import torch

from holaframe.models.encoders.frame_conv_stem import FrameConvStem


@pytest.mark.parametrize('norm', ['batch', 'clip'])
def test_one_token_per_frame(norm):
    stem = FrameConvStem(in_channels=1, embed_dim=16, stage_channels=(4, 8), norm=norm)
    assert stem(torch.randn(2, 1, 5, 24, 24)).shape == (2, 5, 16)


def test_clip_norm_ignores_a_clip_gain_and_the_other_clips():
    torch.manual_seed(0)
    stem = FrameConvStem(in_channels=1, embed_dim=16, stage_channels=(4, 8), norm='clip')
    x = torch.randn(2, 1, 6, 24, 24)
    out = stem(x)
    louder = x.clone()
    louder[1] *= 9.0  # one clip drives every channel 9x harder
    torch.testing.assert_close(stem(louder), out, atol=1e-4, rtol=1e-4)
    # Each clip is normalised by its own frames only: a batch of one gives the same tokens.
    torch.testing.assert_close(stem(x[:1]), out[:1], atol=1e-5, rtol=1e-5)
    # ... over the whole clip, not per frame: a frame's own gain still shows.
    brighter_frame = x.clone()
    brighter_frame[0, :, 3] *= 3.0
    assert not torch.allclose(stem(brighter_frame)[0, 3], out[0, 3], atol=1e-3)


def test_batch_norm_depends_on_the_batch_and_clip_norm_has_no_running_stats():
    batch = FrameConvStem(in_channels=1, embed_dim=16, stage_channels=(4,), norm='batch')
    clip = FrameConvStem(in_channels=1, embed_dim=16, stage_channels=(4,), norm='clip')
    assert any('running_mean' in k for k in batch.state_dict())
    assert not any('running' in k for k in clip.state_dict())


def test_unknown_norm_is_an_error():
    with pytest.raises(ValueError, match="norm must be 'batch' or 'clip'"):
        FrameConvStem(norm='layer')
