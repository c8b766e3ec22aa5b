"""Local-Global Contextual Fusion: CLS token, transformer layers, Eq. (11)."""

import torch

from holaframe.models.fusion import LocalGlobalContextualFusion


def _manual(lgcf: LocalGlobalContextualFusion, f_v, f_a):
    x = torch.cat([lgcf.cls_token.expand(f_v.shape[0], -1, -1), f_v, f_a], dim=1)
    for layer in lgcf.layers:
        x = layer(x)
    x = lgcf.norm(x)
    return x[:, 0], x[:, 1:]


def test_output_shape_and_eq11():
    torch.manual_seed(0)
    lgcf = LocalGlobalContextualFusion(16, num_layers=2, num_heads=4, return_global=True).eval()
    f_v, f_a = torch.randn(3, 5, 16), torch.randn(3, 5, 16)
    f_f, f_g = lgcf(f_v, f_a)
    assert f_f.shape == (3, 10, 16) and f_g.shape == (3, 16)
    g_ref, l_ref = _manual(lgcf, f_v, f_a)
    torch.testing.assert_close(f_g, g_ref)
    w = lgcf.gate.weight
    gate = torch.sigmoid(l_ref @ w[:, :16].T + (g_ref @ w[:, 16:].T)[:, None] + lgcf.gate.bias)
    torch.testing.assert_close(f_f, l_ref * gate)


def test_global_feature_is_broadcast_over_2l_positions():
    torch.manual_seed(1)
    lgcf = LocalGlobalContextualFusion(8, num_layers=1, num_heads=2).eval()
    f_v, f_a = torch.randn(2, 4, 8), torch.randn(2, 4, 8)
    seen = {}
    lgcf.gate.register_forward_hook(lambda m, i, o: seen.update(inp=i[0]))
    lgcf(f_v, f_a)
    gate_in = seen['inp']
    assert gate_in.shape == (2, 8, 16)  # 2L positions, [F_l, F_g]
    g_ref, l_ref = _manual(lgcf, f_v, f_a)
    torch.testing.assert_close(gate_in[..., :8], l_ref)
    torch.testing.assert_close(gate_in[..., 8:], g_ref[:, None].expand(2, 8, 8))


def test_cls_token_reaches_output():
    torch.manual_seed(2)
    lgcf = LocalGlobalContextualFusion(8, num_layers=1, num_heads=2).eval()
    f_v, f_a = torch.randn(1, 4, 8), torch.randn(1, 4, 8)
    out1 = lgcf(f_v, f_a)
    with torch.no_grad():
        lgcf.cls_token.add_(torch.randn(8))
    assert not torch.allclose(out1, lgcf(f_v, f_a))
