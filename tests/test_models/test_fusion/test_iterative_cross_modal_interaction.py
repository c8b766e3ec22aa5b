"""Iterative-aware Cross-modal Interaction: Eq. (8)-(10)."""

import pytest
import torch
import torch.nn.functional as F

from holaframe.models.fusion import IterativeCrossModalInteraction
from holaframe.models.fusion.iterative_cross_modal_interaction import GatedCrossModalUpdate


def _force_gate(layer: GatedCrossModalUpdate, value: float) -> None:
    """Make the gate output the constant sigmoid(value) (0 for -1e4, 1 for +1e4)."""
    last = layer.gate[-1]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.fill_(value)


@pytest.fixture
def streams():
    torch.manual_seed(0)
    return torch.randn(2, 6, 16), torch.randn(2, 6, 16)


def test_gate_zero_gives_layernorm_of_twice_fc(streams):
    f_c, f_o = streams
    layer = GatedCrossModalUpdate(16, num_heads=4, gate_hidden=8).eval()
    _force_gate(layer, -1e4)
    expected = F.layer_norm(2 * f_c, (16,), layer.norm.weight, layer.norm.bias, layer.norm.eps)
    torch.testing.assert_close(layer(f_c, f_o), expected, atol=1e-5, rtol=1e-5)


def test_gate_one_gives_layernorm_of_fc_plus_mhca(streams):
    f_c, f_o = streams
    layer = GatedCrossModalUpdate(16, num_heads=4, gate_hidden=8).eval()
    _force_gate(layer, 1e4)
    mhca = layer.cross_attn(f_c, f_o)
    expected = layer.norm(f_c + mhca)
    torch.testing.assert_close(layer(f_c, f_o), expected, atol=1e-5, rtol=1e-5)
    # And it is not the G = 0 result.
    assert not torch.allclose(layer(f_c, f_o), layer.norm(2 * f_c), atol=1e-3)


def test_half_gate_mixes_as_eq9(streams):
    f_c, f_o = streams
    layer = GatedCrossModalUpdate(16, num_heads=4, gate_hidden=8).eval()
    _force_gate(layer, 0.0)  # G = 0.5 everywhere
    mhca = layer.cross_attn(f_c, f_o)
    expected = layer.norm(f_c + 0.5 * f_c + 0.5 * mhca)
    torch.testing.assert_close(layer(f_c, f_o), expected, atol=1e-5, rtol=1e-5)


def test_gate_network_reads_concat_of_fc_and_mhca(streams):
    f_c, f_o = streams
    layer = GatedCrossModalUpdate(16, num_heads=4, gate_hidden=8).eval()
    seen = {}
    layer.gate.register_forward_hook(lambda m, i, o: seen.update(inp=i[0], out=o))
    out = layer(f_c, f_o)
    mhca = layer.cross_attn(f_c, f_o)
    torch.testing.assert_close(seen['inp'], torch.cat([f_c, mhca], dim=-1))
    # Eq. (8): Linear-ReLU-Linear then sigmoid; Eq. (9)-(10) with that gate.
    assert [type(m).__name__ for m in layer.gate] == ['Linear', 'ReLU', 'Linear']
    g = torch.sigmoid(seen['out'])
    torch.testing.assert_close(out, layer.norm(f_c + (1 - g) * f_c + g * mhca))


def test_three_bidirectional_layers_read_layer_inputs(streams):
    f_v, f_a = streams
    ici = IterativeCrossModalInteraction(16, num_layers=3, num_heads=4).eval()
    assert len(ici.video_layers) == 3 and len(ici.audio_layers) == 3
    out_v, out_a = ici(f_v, f_a)
    v, a = f_v, f_a
    for lv, la in zip(ici.video_layers, ici.audio_layers):
        v, a = lv(v, a), la(a, v)  # both read the inputs of the layer
    torch.testing.assert_close(out_v, v)
    torch.testing.assert_close(out_a, a)
    # A sequential update (audio reading the new video) would differ.
    v2, a2 = f_v, f_a
    for lv, la in zip(ici.video_layers, ici.audio_layers):
        v2 = lv(v2, a2)
        a2 = la(a2, v2)
    assert not torch.allclose(out_a, a2, atol=1e-4)


def test_silent_clip_video_update_ignores_audio(streams):
    f_v, f_a = streams
    ici = IterativeCrossModalInteraction(16, num_layers=1, num_heads=4).eval()
    has_audio = torch.tensor([True, False])
    out_v, out_a = ici(f_v, f_a, has_audio=has_audio)
    assert torch.isfinite(out_v).all() and torch.isfinite(out_a).all()
    out_v2, _ = ici(f_v, torch.randn_like(f_a) * 100, has_audio=has_audio)
    torch.testing.assert_close(out_v[1], out_v2[1])  # the silent clip's video is unaffected
    assert not torch.allclose(out_v[0], out_v2[0])


def test_shape_mismatch_raises():
    ici = IterativeCrossModalInteraction(16, num_heads=4)
    with pytest.raises(ValueError, match='same shape'):
        ici(torch.randn(1, 4, 16), torch.randn(1, 5, 16))
