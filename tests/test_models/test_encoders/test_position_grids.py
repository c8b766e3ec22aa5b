"""Positions that survive a change of the token grid (pre-training 160 px -> fine-tuning 224 px)."""

import warnings

import pytest
import torch

from holaframe.models.encoders import AudioViTEncoder, VideoViTEncoder
from holaframe.models.layers import get_sinusoid_encoding_table, map_sinusoid_table

NANO = dict(embed_dim=32, depth=1, num_heads=2, mlp_ratio=2.)


def _video(img_size: int, **kw) -> VideoViTEncoder:
    return VideoViTEncoder(arch=NANO, img_size=img_size, num_frames=16, **kw).eval()


def _frames(table: torch.Tensor, grid) -> torch.Tensor:
    t, h, w = grid
    return table[0].reshape(t, h, w, -1)


def _centre(frame: torch.Tensor) -> torch.Tensor:
    """Position of the centre of a frame: the centre token, or the mean of the 2 x 2 (or 1 x 2)
    tokens around it when a side is even."""
    h, w = frame.shape[:2]
    rows = [h // 2] if h % 2 else [h // 2 - 1, h // 2]
    cols = [w // 2] if w % 2 else [w // 2 - 1, w // 2]
    return frame[rows][:, cols].reshape(-1, frame.shape[-1]).mean(0)


def test_same_grid_is_the_hicmae_table_bit_for_bit():
    table = map_sinusoid_table((8, 10, 10), (8, 10, 10), 64)
    assert torch.equal(table, get_sinusoid_encoding_table(800, 64))
    assert torch.equal(_video(160).pos_embed, get_sinusoid_encoding_table(800, 32))


def test_160_and_224_encoders_agree_at_corners_and_centre_of_every_frame():
    small = _video(160)  # positions learned here: grid (8, 10, 10)
    large = _video(224, pos_grid=(8, 10, 10))  # fine-tuning grid (8, 14, 14)
    assert small.grid_size == (8, 10, 10) and large.grid_size == (8, 14, 14)
    a, b = _frames(small.pos_embed, small.grid_size), _frames(large.pos_embed, large.grid_size)
    for t in range(8):
        for (ra, ca), (rb, cb) in [((0, 0), (0, 0)), ((0, 9), (0, 13)), ((9, 0), (13, 0)),
                                   ((9, 9), (13, 13))]:
            torch.testing.assert_close(b[t, rb, cb], a[t, ra, ca], rtol=0, atol=1e-6)
        torch.testing.assert_close(_centre(b[t]), _centre(a[t]), rtol=0, atol=1e-6)
    # Without the mapping the same flattened index is somewhere else on the face.
    plain = _frames(_video(224).pos_embed, (8, 14, 14))
    assert not torch.allclose(plain[0, 0, 13], a[0, 0, 9], atol=1e-3)


def test_odd_grid_centre_token_and_time_axis_mapping():
    # 112 px (7 x 7) from a 128 px pre-training (8 x 8); 8 frames (4 slices) from 16 (8 slices).
    enc = VideoViTEncoder(arch=NANO, img_size=112, num_frames=8, pos_grid=(8, 8, 8))
    src = _frames(get_sinusoid_encoding_table(512, 32), (8, 8, 8))
    dst = _frames(enc.pos_embed, enc.grid_size)
    torch.testing.assert_close(dst[0, 3, 3], _centre(src[0]), rtol=0, atol=1e-6)
    torch.testing.assert_close(dst[-1, -1, -1], src[-1, -1, -1], rtol=0, atol=1e-6)
    # Slice 1 of 4 sits at 7/3 of the way along 8 source slices: linear between 2 and 3.
    w = 7 / 3 - 2
    torch.testing.assert_close(dst[1, 0, 0], (1 - w) * src[2, 0, 0] + w * src[3, 0, 0],
                               rtol=0, atol=1e-6)


def test_mfcc_segments_take_the_centre_frequency_of_an_fbank_grid():
    enc = AudioViTEncoder(arch=NANO, input_type='mfcc', num_segments=16, pos_grid=(16, 8))
    src = get_sinusoid_encoding_table(128, 32)[0].reshape(16, 8, 32)
    torch.testing.assert_close(enc.pos_embed[0], 0.5 * (src[:, 3] + src[:, 4]), rtol=0,
                               atol=1e-6)


def test_grid_travels_with_the_state_dict_and_is_mapped_on_load():
    pre = _video(160)
    state = pre.state_dict()
    assert state['pos_grid'].tolist() == [8, 10, 10]
    ft = _video(224)
    ft.load_state_dict(state)
    assert ft.pos_grid.tolist() == [8, 10, 10]
    torch.testing.assert_close(ft.pos_embed, _video(224, pos_grid=(8, 10, 10)).pos_embed)
    # A fine-tuned checkpoint keeps the grid, so testing rebuilds the same positions.
    again = _video(224)
    again.load_state_dict(ft.state_dict())
    assert torch.equal(again.pos_embed, ft.pos_embed)
    # fbank pre-training grid into an MFCC encoder (a grid of another rank).
    fbank = AudioViTEncoder(arch=NANO, input_type='fbank').state_dict()
    mfcc = AudioViTEncoder(arch=NANO, input_type='mfcc')
    fbank = {k: v for k, v in fbank.items() if not k.startswith('patch_embed')}
    mfcc.load_state_dict(fbank, strict=False)
    assert mfcc.pos_grid.tolist() == [16, 8]


def test_checkpoint_without_grid_loads_with_a_clear_warning():
    state = {k: v for k, v in _video(160).state_dict().items() if k != 'pos_grid'}
    enc = _video(224)
    with pytest.warns(UserWarning, match='no .pos_grid.*assuming \\(8, 14, 14\\)'):
        result = enc.load_state_dict(state, strict=True)
    assert not result.missing_keys and enc.pos_grid.tolist() == [8, 14, 14]
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        _video(224).load_state_dict(_video(224).state_dict())  # with the grid: no warning


def test_bad_grids_are_refused():
    with pytest.raises(ValueError, match='positive'):
        map_sinusoid_table((8, 0, 10), (8, 14, 14), 16)
    with pytest.raises(ValueError, match='pos_grid'):
        _video(160, pos_grid=(8, -1, 10))
