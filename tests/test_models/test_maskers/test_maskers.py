"""Maskers: exact ratios, tube structure, running-cell pattern, stratified decoder masks."""

import pytest
import torch

from holaframe.models.maskers import RandomMasker, RunningCellMasker, TubeMasker
from holaframe.registry import MODELS
from holaframe.utils import register_all_modules


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize('grid,expected_per_slot', [((8, 2, 2), 3), ((8, 10, 10), 90),
                                                    ((8, 14, 14), 176), ((8, 4, 4), 14)])
def test_tube_masker_exact_ratio_and_tubes(grid, expected_per_slot):
    masker = TubeMasker(0.9)
    t, h, w = grid
    mask = masker(5, grid, 'cpu')
    assert mask.dtype == torch.bool and mask.shape == (5, t * h * w)
    assert mask.device.type == 'cpu'
    per_slot = mask.view(5, t, h * w)
    # int(0.9 * h * w) masked patches in every slot of every sample (HiCMAE's floor rule).
    assert (per_slot.sum(-1) == expected_per_slot).all()
    assert masker.num_masked(grid) == t * expected_per_slot
    # The same spatial mask in every temporal slot (a tube).
    assert (per_slot == per_slot[:, :1]).all()


def test_tube_masker_differs_between_samples():
    mask = TubeMasker(0.9)(32, (8, 10, 10), 'cpu')
    assert len({tuple(row.tolist()) for row in mask}) > 1


@pytest.mark.parametrize('grid,ratio,expected', [((16, 8), 0.8, 102), ((16, 4), 0.8, 51),
                                                 ((16, 8), 0.5, 64), ((7, ), 0.5, 3)])
def test_random_masker_exact_ratio(grid, ratio, expected):
    masker = RandomMasker(ratio)
    mask = masker(6, grid, 'cpu')
    assert mask.shape == (6, int(torch.tensor(grid).prod()))
    assert (mask.sum(1) == expected).all()
    assert masker.num_masked(grid) == expected


def test_random_masker_stratified_by_encoder_mask():
    enc = RandomMasker(0.8)(8, (16, 8), 'cpu')  # 102 masked / 26 visible per sample
    dec = RandomMasker(0.5)(8, (16, 8), 'cpu', encoder_mask=enc)
    decoded = enc & ~dec  # M_en ∩ M_de (kept by the decoder)
    assert (decoded.sum(1) == 102 - int(0.5 * 102)).all()
    assert (dec.sum(1) == int(0.5 * 102) + int(0.5 * 26)).all()  # 51 + 13 = 64 = 0.5 * 128
    with pytest.raises(ValueError, match='same number'):
        uneven = enc.clone()
        uneven[0, ~enc[0]] = True
        RandomMasker(0.5)(8, (16, 8), 'cpu', encoder_mask=uneven)


def _cells(mask: torch.Tensor, t: int, h: int, w: int) -> torch.Tensor:
    """(B, t*h*w) -> (B, t, h/2, w/2, 4) with the 4 cell positions row-major."""
    B = mask.shape[0]
    m = mask.view(B, t, h // 2, 2, w // 2, 2).permute(0, 1, 2, 4, 3, 5)
    return m.reshape(B, t, h // 2, w // 2, 4)


@pytest.mark.parametrize('grid', [(8, 2, 2), (8, 10, 10), (4, 4, 6)])
def test_running_cell_keeps_two_of_four_and_shifts_along_time(grid):
    t, h, w = grid
    masker = RunningCellMasker(0.5)
    mask = masker(16, grid, 'cpu')
    assert mask.shape == (16, t * h * w)
    assert (mask.sum(1) == t * h * w // 2).all() and masker.num_masked(grid) == t * h * w // 2
    cells = _cells(mask, t, h, w)
    # Every 2x2 cell keeps exactly 2 of its 4 patches in every temporal slot.
    assert ((~cells).sum(-1) == 2).all()
    # The same pattern in every cell of a slot.
    assert (cells == cells[:, :, :1, :1]).all()
    pattern = cells[:, :, 0, 0]  # (B, t, 4)
    # The pattern moves one queue step per slot: position k at t+1 = position k+1 at t.
    assert torch.equal(pattern[:, 1:], pattern[:, :-1].roll(-1, dims=-1))
    assert not torch.equal(pattern[:, 1:], pattern[:, :-1])
    # Over 4 consecutive slots every position is kept exactly twice.
    assert ((~pattern[:, :4]).sum(1) == 2).all()


def test_running_cell_offsets_vary_and_bad_inputs_raise():
    mask = RunningCellMasker(0.5)(32, (4, 2, 2), 'cpu')
    assert len({tuple(row.tolist()) for row in mask}) == 4  # the 4 possible phases
    with pytest.raises(ValueError, match='even h and w'):
        RunningCellMasker(0.5)(2, (8, 3, 4), 'cpu')
    with pytest.raises(ValueError, match='integer in 1..3'):
        RunningCellMasker(0.4)
    with pytest.raises(ValueError, match=r'\[0, 1\)'):
        TubeMasker(1.0)


def test_running_cell_with_tube_mask_decodes_a_fixed_count():
    """Tube encoder mask x running-cell decoder mask: |M_en ∩ M_de| is the same for all."""
    enc = TubeMasker(0.9)(16, (8, 10, 10), 'cpu')
    dec = RunningCellMasker(0.5)(16, (8, 10, 10), 'cpu', encoder_mask=enc)
    assert ((enc & ~dec).sum(1) == 360).all()  # 0.5 * 720


def test_maskers_registered():
    register_all_modules(init_default_scope=False)
    for name in ('TubeMasker', 'RandomMasker', 'RunningCellMasker'):
        assert MODELS.get(name) is not None
    masker = MODELS.build(dict(type='RunningCellMasker', mask_ratio=0.5))
    assert isinstance(masker, RunningCellMasker)
