"""AV-MAE losses and targets: Eq. (6) normaliser, per-patch targets, frame difference, HCMCL."""

import pytest
import torch
import torch.nn.functional as F

from holaframe.models.losses import (
    HierarchicalContrastiveLoss,
    MaskedReconstructionLoss,
    audio_reconstruction_targets,
    video_reconstruction_targets,
)


def test_loss_normaliser_is_one_minus_lambda_times_n():
    # 12 decoded positions, every one with squared error 4 per value -> sum over M = 12 * 4.
    pred = torch.zeros(3, 12, 6)
    target = torch.full((3, 12, 6), 2.0)
    loss = MaskedReconstructionLoss()
    n_tokens, lam = 32, 0.5
    # Eq. (6): sum_{M_de ∩ M_en} ||.||^2 / ((1 - lambda) * N).
    assert loss(pred, target, n_tokens, lam).item() == pytest.approx(12 * 4 / ((1 - lam) * 32))
    assert loss(pred, target, n_tokens, 0.0).item() == pytest.approx(12 * 4 / 32)
    assert MaskedReconstructionLoss(normalizer='count')(pred, target, n_tokens, lam).item() == \
        pytest.approx(4.0)
    assert MaskedReconstructionLoss(patch_reduction='sum')(pred, target, n_tokens, lam).item() \
        == pytest.approx(12 * 24 / 16)
    assert MaskedReconstructionLoss(loss_weight=2.0)(pred, target, n_tokens, lam).item() == \
        pytest.approx(2 * 12 * 4 / 16)


def test_loss_is_batch_mean_of_per_sample_sums():
    pred = torch.zeros(2, 4, 1)
    target = torch.tensor([[1., 1., 1., 1.], [0., 0., 0., 2.]]).unsqueeze(-1)
    # sample 0: 4 / 8; sample 1: 4 / 8; N = 16, lambda = 0.5 -> denominator 8.
    assert MaskedReconstructionLoss()(pred, target, 16, 0.5).item() == pytest.approx(0.5)
    with pytest.raises(ValueError, match='differ'):
        MaskedReconstructionLoss()(pred, target[:, :3], 16, 0.5)


def _reference_video_targets(video, mean, std, tub, p, frame_diff):
    """Straightforward per-token loops (HiCMAE's recipe written out)."""
    B, C, T, H, W = video.shape
    pixels = video * std.view(1, C, 1, 1, 1) / 255 + mean.view(1, C, 1, 1, 1) / 255
    rows = []
    for b in range(B):
        tokens = []
        for ti in range(T // tub):
            for hi in range(H // p):
                for wi in range(W // p):
                    cube = pixels[b, :, ti * tub:(ti + 1) * tub, hi * p:(hi + 1) * p,
                                  wi * p:(wi + 1) * p]  # C, tub, p, p
                    vals = cube.reshape(C, -1)  # per channel, 512-like values
                    vals = (vals - vals.mean(1, keepdim=True)) / (vals.std(1, keepdim=True) +
                                                                   1e-6)
                    cube = vals.reshape(C, tub, p, p)
                    if frame_diff:
                        cube = torch.cat([cube[:, :1], cube[:, 1:] - cube[:, :1]], dim=1)
                    tokens.append(cube.permute(1, 2, 3, 0).reshape(-1))  # channel fastest
        rows.append(torch.stack(tokens))
    return torch.stack(rows)


@pytest.mark.parametrize('frame_diff', [False, True])
def test_video_targets_match_hicmae_recipe(frame_diff):
    torch.manual_seed(0)
    video = torch.randn(2, 3, 4, 8, 12)
    mean = torch.tensor([123.675, 116.28, 103.53])
    std = torch.tensor([58.395, 57.12, 57.375])
    got = video_reconstruction_targets(video, tubelet_size=2, patch_size=4, frame_diff=frame_diff)
    ref = _reference_video_targets(video, mean, std, 2, 4, frame_diff)
    assert got.shape == (2, 2 * 2 * 3, 2 * 4 * 4 * 3)
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-5)


def test_frame_difference_groups_of_four_frames():
    torch.manual_seed(0)
    video = torch.randn(1, 3, 8, 4, 4)
    plain = video_reconstruction_targets(video, tubelet_size=2, patch_size=4)
    diff = video_reconstruction_targets(video, tubelet_size=2, patch_size=4, frame_diff=True,
                                        frame_diff_group_size=4)
    frame = plain.view(1, 4, 2, 16, 3)  # tokens (t), frame-in-tubelet, pixels, channel
    # frames 0-3 form one group: frame 0 kept, frames 1, 2, 3 minus frame 0.
    torch.testing.assert_close(diff.view(1, 4, 2, 16, 3)[0, 0, 0], frame[0, 0, 0])
    torch.testing.assert_close(diff.view(1, 4, 2, 16, 3)[0, 1, 1],
                               frame[0, 1, 1] - frame[0, 0, 0])


def test_audio_targets_time_major_and_normalised():
    torch.manual_seed(0)
    audio = torch.randn(2, 1, 32, 48)
    got = audio_reconstruction_targets(audio, patch_size=16)
    assert got.shape == (2, 2 * 3, 256)
    # token 4 = time patch 1, freq patch 1; values (time-in-patch, freq-in-patch)
    patch = audio[1, 0, 16:32, 16:32].reshape(-1)
    ref = (patch - patch.mean()) / (patch.std() + 1e-6)
    torch.testing.assert_close(got[1, 4], ref)
    raw = audio_reconstruction_targets(audio, patch_size=16, normalize=False)
    torch.testing.assert_close(raw[1, 4], patch)


def test_hierarchical_contrastive_loss():
    torch.manual_seed(0)
    vids = [torch.randn(4, 5, 8) for _ in range(3)]
    auds = [torch.randn(4, 7, 8) for _ in range(3)]
    crit = HierarchicalContrastiveLoss(temperature=0.07, loss_weight=0.0025)
    lv, la = crit.logits(vids, auds)
    expected = 0.0
    for v, a, logit_v, logit_a in zip(vids, auds, lv, la):
        vm = F.normalize(v.mean(1), dim=1)
        am = F.normalize(a.mean(1), dim=1)
        torch.testing.assert_close(logit_v, vm @ am.t() / 0.07)
        torch.testing.assert_close(logit_a, logit_v.t())
        labels = torch.arange(4)
        expected += 0.5 * (F.cross_entropy(logit_v, labels) + F.cross_entropy(logit_a, labels))
    torch.testing.assert_close(crit(lv, la), 0.0025 * expected)


@pytest.mark.parametrize('frame_diff,group', [(False, 2), (True, 2), (True, 4)])
def test_selected_targets_equal_indexed_full_targets(frame_diff, group):
    """The pre-trainer computes targets only at the decoded positions: same values."""
    torch.manual_seed(0)
    video = torch.randn(2, 3, 8, 8, 12)  # 4 x 2 x 3 = 24 tokens of 2x4x4
    select = torch.zeros(2, 24, dtype=torch.bool)
    select[0, [1, 5, 6, 20]] = True
    select[1, [0, 2, 13, 23]] = True
    kw = dict(tubelet_size=2, patch_size=4, frame_diff=frame_diff, frame_diff_group_size=group)
    full = video_reconstruction_targets(video, **kw)
    got = video_reconstruction_targets(video, select=select, **kw)
    torch.testing.assert_close(got, full[select].reshape(2, 4, -1), atol=1e-6, rtol=1e-6)
    audio = torch.randn(2, 1, 32, 48)
    aselect = torch.zeros(2, 6, dtype=torch.bool)
    aselect[0, [0, 4]] = True
    aselect[1, [3, 5]] = True
    afull = audio_reconstruction_targets(audio, patch_size=16)
    torch.testing.assert_close(audio_reconstruction_targets(audio, patch_size=16, select=aselect),
                               afull[aselect].reshape(2, 2, -1))
