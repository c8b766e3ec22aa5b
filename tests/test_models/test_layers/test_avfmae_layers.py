"""AVF-MAE++ layers: LGBlock, RegionTokens (partition, masked grouping, token mapping),
GatedCrossModalBlock and IterativeRefinement. Parity with AVF-MAE++'s code is in
tests/test_models/test_encoders/test_avfmae_parity.py."""

import pytest
import torch

from holaframe.models.layers import (
    GatedCrossModalBlock,
    IterativeRefinement,
    LGBlock,
    RegionTokens,
    map_region_tokens,
)


def _coords(grid):
    """Tokens whose channels are their own grid coordinates, (1, N, len(grid))."""
    mesh = torch.meshgrid(*[torch.arange(g) for g in grid], indexing='ij')
    return torch.stack([m.flatten() for m in mesh], -1).float()[None]


def test_partition_groups_spatial_regions_and_split_restores_order():
    regions = RegionTokens((4, 4, 6), (2, 2, 3), embed_dim=3)
    assert regions.region_grid_size == (2, 2, 2) and regions.num_regions == 8
    x = _coords((4, 4, 6))
    rows = regions.partition(x)
    assert rows.shape == (8, 1 + 12, 3)
    for r in range(8):
        local = rows[r, 1:]
        corner = torch.tensor([r // 4, (r // 2) % 2, r % 2]) * torch.tensor([2, 2, 3])
        assert ((local - corner >= 0) & (local - corner < torch.tensor([2., 2., 3.]))).all()
        assert len({tuple(t.tolist()) for t in local}) == 12
    batch = torch.randn(3, 96, 5)
    reg5 = RegionTokens((4, 4, 6), (2, 2, 3), embed_dim=5)
    tokens, local = reg5.split(reg5.partition(batch), 3)
    assert torch.equal(local, batch)
    assert torch.equal(tokens, reg5.region_tokens.detach().expand(3, -1, -1))


def test_masked_grouping_follows_the_time_steps_for_video():
    """Visible tokens of each time step are cut into consecutive chunks (AVF-MAE++)."""
    regions = RegionTokens((4, 2, 2), (2, 1, 2), embed_dim=1, keep_time_axis=True)
    order = regions.visible_order(8)  # 2 visible tokens per step, 1 per region chunk
    # (nt=2, t=2, chunks=2, 1) -> regions: steps {0,1} chunk 0, steps {0,1} chunk 1, ...
    assert order.tolist() == [0, 2, 1, 3, 4, 6, 5, 7]
    audio = RegionTokens((8, 4), (2, 2), embed_dim=1)
    assert audio.visible_order(8).tolist() == list(range(8))
    with pytest.raises(ValueError, match='do not split into the 8 regions'):
        audio.visible_order(6)


def test_region_size_must_divide_the_grid():
    with pytest.raises(ValueError, match='region_tokens.py: region_size'):
        RegionTokens((8, 10, 10), (2, 4, 10), embed_dim=4)
    with pytest.raises(ValueError, match='region_tokens.py: region_size'):
        RegionTokens((16, ), (4, 4), embed_dim=4)


def test_map_region_tokens_keeps_corners_and_averages_dropped_axes():
    tokens = torch.randn(8, 3)  # region grid (4, 2)
    assert map_region_tokens(tokens, (4, 2), (4, 2)) is tokens
    mapped = map_region_tokens(tokens, (4, 2), (8, ))  # MFCC: time only
    grid = tokens.reshape(4, 2, 3)
    torch.testing.assert_close(mapped[0], grid[0].mean(0))
    torch.testing.assert_close(mapped[-1], grid[-1].mean(0))
    up = map_region_tokens(tokens.reshape(8, 3)[:4], (4, 1, 1), (8, 1, 1))
    torch.testing.assert_close(up[[0, -1]], tokens[[0, 3]])
    with pytest.raises(ValueError, match='do not fill'):
        map_region_tokens(tokens, (3, 2), (8, ))


def test_loading_tokens_of_another_region_grid_maps_them():
    source = RegionTokens((8, 4), (2, 2), embed_dim=4)  # fbank: regions (4, 2)
    target = RegionTokens((16, ), (2, ), embed_dim=4)  # MFCC: regions (8,)
    target.load_state_dict(source.state_dict())
    torch.testing.assert_close(target.region_tokens,
                               map_region_tokens(source.region_tokens, (4, 2), (8, )))
    assert target.region_grid.tolist() == [8]
    state = {'region_tokens': source.region_tokens.detach().clone()}
    same = RegionTokens((8, 4), (2, 2), embed_dim=4)
    with pytest.warns(UserWarning, match='no .region_grid.*assuming \\(4, 2\\)'):
        result = same.load_state_dict(state)
    assert not result.missing_keys and torch.equal(same.region_tokens, state['region_tokens'])


def test_lg_block_options_build_the_documented_modules():
    block = LGBlock(16, 2)
    assert block.third_attn is not block.first_attn and hasattr(block, 'third_attn_norm1')
    shared = LGBlock(16, 2, attn_param_sharing_all=True)
    assert shared.second_attn is shared.first_attn and shared.third_attn is shared.first_attn
    assert LGBlock(16, 2, attn_param_sharing_first_third=True).third_attn is not None
    assert not hasattr(LGBlock(16, 2, no_second=True), 'second_attn')
    assert hasattr(LGBlock(16, 2, first_attn_type='cross'), 'first_attn_norm1')
    with pytest.raises(ValueError, match='first_attn_type'):
        LGBlock(16, 2, first_attn_type='local')
    with pytest.raises(ValueError, match='do not split into batch_size'):
        block(torch.randn(5, 3, 16), 2)


@pytest.mark.parametrize('options', [dict(), dict(first_attn_type='cross'),
                                     dict(third_attn_type='self'), dict(no_second=True)])
def test_lg_block_keeps_samples_apart(options):
    """The global steps mix regions of one sample, never of two samples."""
    torch.manual_seed(0)
    block = LGBlock(16, 2, **options).eval()
    x = torch.randn(2 * 3, 5, 16)
    y = block(x, 2)
    x2 = x.clone()
    x2[3:] += torch.randn(3, 5, 16)  # change every region of sample 1
    y2 = block(x2, 2)
    assert torch.equal(y[:3], y2[:3]) and not torch.allclose(y[3:], y2[3:])
    # ... while the global steps do connect the regions of a sample.
    x3 = x.clone()
    x3[0] += torch.randn(5, 16)
    assert not torch.allclose(block(x3, 2)[1], y[1])


def test_gated_block_matches_its_equation():
    torch.manual_seed(0)
    blk = GatedCrossModalBlock(8, 2).eval()
    v, a = torch.randn(2, 5, 8), torch.randn(2, 3, 8)
    out_v, out_a = blk(v, a)
    v_sa = v + blk.attn(blk.norm1(v))
    v_sa = v_sa + blk.mlp_vsa(blk.norm_vsa(v_sa))
    v_cma = v + blk.cross_attn(blk.cross_norm1(v), context=blk.cross_norm2(a))
    v_cma = v_cma + blk.mlp_vcma(blk.norm_vcma(v_cma))
    both = torch.cat([v_sa, v_cma], -1)
    expected = blk.norm3(torch.sigmoid(blk.lv1(both)) * v_sa + torch.sigmoid(blk.lv2(both)) * v_cma)
    torch.testing.assert_close(out_v, expected)
    assert out_a.shape == a.shape


def test_iterative_refinement_projects_once_and_needs_two_tokens_to_train():
    ir = IterativeRefinement(8, concat_dim=16)
    v, a = torch.randn(2, 5, 8), torch.randn(2, 3, 8)
    ctx = ir(v, a, torch.randn(2, 1, 16))
    assert ctx.shape == (2, 1, 8) and ir(v, a, ctx).shape == (2, 1, 8)
    with pytest.raises(ValueError, match='width 12'):
        ir(v, a, torch.randn(2, 1, 12))
    with pytest.raises(ValueError, match='batch of two or more clips'):
        ir(v[:1], a[:1], torch.randn(1, 1, 16))
    ir.eval()
    assert ir(v[:1], a[:1], torch.randn(1, 1, 16)).shape == (1, 1, 8)
