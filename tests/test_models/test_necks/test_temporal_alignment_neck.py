"""Temporal alignment neck (Sec. 3.2.2)."""

import pytest
import torch

from holaframe.models.layers import get_sinusoid_encoding_table
from holaframe.models.necks import TemporalAlignmentNeck


def test_shapes_and_sequence_projection():
    torch.manual_seed(0)
    neck = TemporalAlignmentNeck(32, 24, 16, in_length_video=50, in_length_audio=12,
                                 out_length=8).eval()
    f_v, f_a = neck(torch.randn(2, 50, 32), torch.randn(2, 12, 24))
    assert f_v.shape == (2, 8, 16) and f_a.shape == (2, 8, 16)
    assert neck.video.seq_proj.weight.shape == (8, 50)
    assert neck.audio.seq_proj.weight.shape == (8, 12)
    # The conv block runs over the token axis, then the linear map over the sequence axis.
    x = torch.randn(2, 50, 32)
    manual = neck.video.seq_proj(neck.video.conv(x.transpose(1, 2))).transpose(1, 2)
    torch.testing.assert_close(neck(x, torch.randn(2, 12, 24))[0],
                               manual + get_sinusoid_encoding_table(8, 16))


def test_equal_length_projection_starts_as_identity():
    neck = TemporalAlignmentNeck(8, 8, 8, 10, 10, 10, add_pos_embed=False).eval()
    x = torch.randn(1, 10, 8)
    conv = neck.video.conv(x.transpose(1, 2)).transpose(1, 2)
    torch.testing.assert_close(neck(x, x)[0], conv)


def test_silent_audio_is_zeroed():
    neck = TemporalAlignmentNeck(8, 8, 8, 10, 6, 4, add_pos_embed=False).eval()
    _, f_a = neck(torch.randn(2, 10, 8), torch.randn(2, 6, 8),
                  has_audio=torch.tensor([True, False]))
    assert f_a[1].abs().sum() == 0 and f_a[0].abs().sum() > 0


def test_variable_length_mode_keeps_length():
    neck = TemporalAlignmentNeck(8, 6, 8, None, None, None, max_length=64).eval()
    assert neck.video.seq_proj is None
    for length in (10, 37):
        f_v, f_a = neck(torch.randn(2, length, 8), torch.randn(2, length, 6))
        assert f_v.shape == (2, length, 8) and f_a.shape == (2, length, 8)
    with pytest.raises(ValueError, match='all be set or all be None'):
        TemporalAlignmentNeck(8, 6, 8, 10, None, None)
    with pytest.raises(ValueError, match='lengths differ'):
        neck(torch.randn(1, 5, 8), torch.randn(1, 6, 6))
