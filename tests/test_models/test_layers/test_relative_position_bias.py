"""Relative time-position bias of the attention in ICI and LGCF (opt-in)."""

import pytest
import torch
import torch.nn.functional as F

from holaframe.models.fusion import IterativeCrossModalInteraction, LocalGlobalContextualFusion
from holaframe.models.fusion.iterative_cross_modal_interaction import GatedCrossModalUpdate
from holaframe.models.layers.relative_position_bias import RelativePositionBias


def test_init_is_a_distance_penalty_halved_per_head_and_clipped():
    rel = RelativePositionBias(num_heads=3, max_distance=2, init_slope=1.0)
    t = torch.arange(5)
    bias = rel(t, t)[0]  # (H, N, M)
    assert bias.shape == (3, 5, 5)
    dist = (t[None] - t[:, None]).abs().clamp(max=2).float()
    for h in range(3):
        torch.testing.assert_close(bias[h], -dist * 0.5 ** h)
    assert torch.count_nonzero(RelativePositionBias(2, 2, init_slope=0.0)(t, t)) == 0


def test_untimed_tokens_get_no_bias_and_groups_have_their_own_table():
    rel = RelativePositionBias(num_heads=1, max_distance=3, num_groups=2)
    with torch.no_grad():
        rel.table.copy_(torch.arange(rel.table.numel(), dtype=torch.float).view_as(rel.table))
    times = torch.tensor([-1, 0, 1, 0, 1])
    groups = torch.tensor([0, 0, 0, 1, 1])
    bias = rel(times, times, groups, groups)[0, 0]
    assert torch.count_nonzero(bias[0]) == 0 and torch.count_nonzero(bias[:, 0]) == 0
    # Video t=0 -> audio t=1: pair (0, 1), offset +1 (index R + 1).
    assert bias[1, 4] == rel.table[0, 0, 1, 4]
    # Audio t=0 -> video t=1: pair (1, 0), same offset, a different entry.
    assert bias[3, 2] == rel.table[0, 1, 0, 4] and bias[3, 2] != bias[1, 4]


def test_ici_adds_the_bias_to_the_cross_attention_logits():
    torch.manual_seed(0)
    f_c, f_o = torch.randn(2, 6, 16), torch.randn(2, 6, 16)
    layer = GatedCrossModalUpdate(16, num_heads=4, gate_hidden=8, rel_pos_distance=3).eval()
    with torch.no_grad():
        layer.gate[-1].weight.zero_()
        layer.gate[-1].bias.fill_(1e4)  # G = 1: the output is LayerNorm(F_c + MHCA)
    t = torch.arange(6)
    mhca = layer.cross_attn(f_c, f_o, attn_mask=layer.rel_pos(t, t))
    torch.testing.assert_close(layer(f_c, f_o), layer.norm(f_c + mhca))
    assert not torch.allclose(mhca, layer.cross_attn(f_c, f_o), atol=1e-4)


def test_a_sharp_bias_makes_each_frame_read_the_same_time_step():
    torch.manual_seed(0)
    f_c, f_o = torch.randn(1, 5, 8), torch.randn(1, 5, 8)
    layer = GatedCrossModalUpdate(8, num_heads=2, gate_hidden=8, rel_pos_distance=2).eval()
    with torch.no_grad():
        layer.rel_pos.table.fill_(-1e4)
        layer.rel_pos.table[..., 2] = 0.0  # offset 0 only
    ca = layer.cross_attn
    t = torch.arange(5)
    out = ca(f_c, f_o, attn_mask=layer.rel_pos(t, t))
    values = F.linear(f_o, ca.kv.weight[8:], ca.v_bias)  # per-position value vectors
    torch.testing.assert_close(out, ca.proj(values), atol=1e-5, rtol=1e-5)


def test_ici_default_is_the_position_blind_paper_module():
    ici = IterativeCrossModalInteraction(16, num_heads=4)
    assert all(layer.rel_pos is None for layer in ici.video_layers)
    n_plain = sum(p.numel() for p in ici.parameters())
    ici_rel = IterativeCrossModalInteraction(16, num_heads=4, rel_pos_distance=4)
    # One (H, 1, 1, 2R + 1) table per layer and direction.
    assert sum(p.numel() for p in ici_rel.parameters()) == n_plain + 3 * 2 * 4 * 9


def test_lgcf_bias_matches_manual_blocks_and_any_length_works():
    torch.manual_seed(0)
    lgcf = LocalGlobalContextualFusion(8, num_layers=2, num_heads=2, rel_pos_distance=3,
                                       return_global=True).eval()
    for length in (4, 7):
        f_v, f_a = torch.randn(2, length, 8), torch.randn(2, length, 8)
        f_f, f_g = lgcf(f_v, f_a)
        assert f_f.shape == (2, 2 * length, 8)
        t = torch.arange(length)
        times = torch.cat([torch.tensor([-1]), t, t])
        groups = torch.cat([torch.zeros(1 + length, dtype=torch.long),
                            torch.ones(length, dtype=torch.long)])
        x = torch.cat([lgcf.cls_token.expand(2, -1, -1), f_v, f_a], dim=1)
        for layer, rel in zip(lgcf.layers, lgcf.rel_pos):
            x = layer(x, attn_mask=rel(times, times, groups, groups))
        x = lgcf.norm(x)
        torch.testing.assert_close(f_g, x[:, 0])
        gate = torch.sigmoid(lgcf.gate(torch.cat([x[:, 1:], x[:, :1].expand_as(x[:, 1:])], -1)))
        torch.testing.assert_close(f_f, x[:, 1:] * gate)  # Eq. (11) unchanged
    assert LocalGlobalContextualFusion(8, num_heads=2).rel_pos is None


def test_invalid_arguments():
    with pytest.raises(ValueError, match='relative_position_bias.py'):
        RelativePositionBias(2, max_distance=-1)
