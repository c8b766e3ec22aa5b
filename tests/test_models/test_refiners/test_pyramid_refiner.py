"""Pyramid-like refiner: Eq. (12)-(13)."""

import pytest
import torch

from holaframe.models.refiners import PyramidRefiner


def test_lengths_halve_and_fms_has_3c_channels():
    torch.manual_seed(0)
    ref = PyramidRefiner(12).eval()
    x = torch.randn(2, 32, 12)
    outs, f_ms = ref.forward_scales(x)
    assert [tuple(o.shape) for o in outs] == [(2, 12, 16), (2, 12, 8), (2, 12, 4)]
    assert f_ms.shape == (2, 36)
    # Eq. (12): F_ms = [GAP(s1), GAP(s2), GAP(s3)].
    torch.testing.assert_close(f_ms, torch.cat([o.mean(-1) for o in outs], dim=-1))
    # Eq. (13): scale i reads the un-pooled output of scale i - 1.
    torch.testing.assert_close(ref.scales[1](outs[0]), outs[1])
    torch.testing.assert_close(ref.scales[2](outs[1]), outs[2])
    out = ref(x)
    assert out.shape == (2, 12)
    torch.testing.assert_close(out, ref.reduce(f_ms))


def test_scale_is_conv_bn_relu_stride2():
    ref = PyramidRefiner(8)
    for scale in ref.scales:
        conv, bn, act = scale
        assert conv.stride == (2,) and type(bn).__name__ == 'BatchNorm1d'
        assert type(act).__name__ == 'ReLU'


def test_wrong_width_raises():
    with pytest.raises(ValueError, match='pyramid_refiner'):
        PyramidRefiner(8)(torch.randn(2, 16, 4))
