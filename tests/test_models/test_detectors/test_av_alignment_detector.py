"""AVAlignmentDetector: offset logits, a loss from real clips only, scoring, calibration."""

import math

import pytest
import torch
import torch.nn as nn

from holaframe.models.detectors.av_alignment_detector import (
    AVAlignmentDetector,
    offset_logits,
)
from holaframe.structures import AVDataSample


class PooledLinear(nn.Module):
    """(B, C, T, H, W) -> (B, T, D): the mean over pixels, then a linear map."""

    def __init__(self, in_channels: int, dim: int) -> None:
        super().__init__()
        self.proj = nn.Linear(in_channels, dim)

    def forward(self, x):
        return self.proj(x.mean(dim=(3, 4)).transpose(1, 2))


def tiny(**kwargs) -> AVAlignmentDetector:
    torch.manual_seed(0)
    cfg = dict(embed_dim=16, proj_dim=16, context_layers=1, kernel_size=3, max_offset=4,
               smooth=1)
    cfg.update(kwargs)
    return AVAlignmentDetector(video_encoder=PooledLinear(cfg.pop('video_channels', 1), 16),
                               audio_encoder=nn.Linear(4, 16), **cfg)


def samples(*labels):
    return [AVDataSample().set_gt_label(label) for label in labels]


def test_offset_logits_pair_each_frame_with_its_neighbours():
    torch.manual_seed(0)
    q = nn.functional.normalize(torch.randn(2, 6, 3), dim=-1)
    k = nn.functional.normalize(torch.randn(2, 6, 3), dim=-1)
    out = offset_logits(q, k, max_offset=2, temperature=0.5)
    assert out.shape == (2, 6, 5)
    for t in range(6):
        for j, off in enumerate(range(-2, 3)):
            if 0 <= t + off < 6:
                want = float((q[1, t] * k[1, t + off]).sum() / 0.5)
                assert float(out[1, t, j]) == pytest.approx(want, abs=1e-6)
            else:
                assert out[1, t, j] == float('-inf')


def test_loss_reads_only_real_clips_with_audio():
    model = tiny(video_channels=3)
    torch.manual_seed(1)
    video, audio = torch.randn(3, 3, 12, 4, 4), torch.randn(3, 12, 4)
    inputs = dict(video=video, audio=audio, has_audio=torch.tensor([1, 1, 0]))
    loss = model(inputs, samples(0, 1, 0), mode='loss')['loss_align']
    # Only clip 0 is real and has audio: the loss is its mean InfoNCE ...
    z_v, z_a = model.embed(dict(video=video[:1], audio=audio[:1]))
    want = float(model.infonce(z_v, z_a).mean().detach())
    assert float(loss.detach()) == pytest.approx(want, rel=1e-5)
    # ... so the fake and the silent clip can change without changing it.
    other = dict(inputs, video=torch.cat([video[:1], torch.randn(2, 3, 12, 4, 4)]))
    assert float(model(other, samples(0, 1, 0), mode='loss')['loss_align']) == pytest.approx(
        float(loss), rel=1e-5)
    only_fakes = model(inputs, samples(1, 1, 1), mode='loss')['loss_align']
    assert float(only_fakes) == 0.0 and only_fakes.requires_grad
    with pytest.raises(ValueError, match='data_samples'):
        model(inputs, None, mode='loss')


def test_calibration_follows_the_real_clips_and_is_saved():
    model = tiny()
    assert int(model.real_stat_count) == 0
    inputs = dict(video=torch.randn(4, 1, 10, 2, 2), audio=torch.randn(4, 10, 4))
    model(inputs, samples(0, 0, 1, 0), mode='loss')
    assert int(model.real_stat_count) == 3
    state = model.state_dict()
    assert {'real_stat_mean', 'real_stat_std', 'real_stat_count'} <= set(state)
    clone = tiny()
    clone.load_state_dict(state)
    assert float(clone.real_stat_mean) == float(model.real_stat_mean)


def test_a_local_mismatch_raises_the_frames_and_the_clip_score():
    model = tiny(margin=0.0).eval()
    t = 40
    base = nn.functional.normalize(torch.randn(1, t, 16), dim=-1)

    def fake_embed(inputs):
        z_a = inputs['z_a']
        return base.expand(z_a.shape[0], -1, -1), z_a

    model.embed = fake_embed
    aligned = base.clone()
    edited = base.clone()
    edited[0, 20:26] = -base[0, 20:26]  # six frames whose audio disagrees with the video
    z_a = torch.cat([aligned, edited])
    out = model._scores(dict(z_a=z_a, video=torch.zeros(2, 1, t, 1, 1)))
    assert out['frames'].shape == (2, t)
    assert float(out['clip'][1]) > float(out['clip'][0])
    assert int(out['frames'][1].argmax()) in range(20, 26)
    # Relative scoring: the aligned clip's frames all sit at its own median.
    assert torch.allclose(out['frames'][0], out['frames'][0, :1].expand(t))
    # A clip without audio gets the score of a typical real clip.
    silent = model._scores(dict(z_a=z_a, video=torch.zeros(2, 1, t, 1, 1),
                                has_audio=torch.tensor([0, 1])))
    assert float(silent['clip'][0]) == pytest.approx(0.5)  # sigmoid(-margin), margin 0
    assert float(silent['clip'][1]) == pytest.approx(float(out['clip'][1]))


def test_temporal_video_norm_ignores_appearance():
    model = tiny(video_norm='temporal', video_channels=1).eval()
    torch.manual_seed(2)
    video = torch.randn(1, 3, 10, 4, 4)
    audio = torch.randn(1, 10, 4)
    z_v, _ = model.embed(dict(video=video, audio=audio))
    # A different static face (a constant image added to every frame) and another contrast.
    other = 2.5 * video + torch.randn(1, 3, 1, 4, 4)
    z_v2, _ = model.embed(dict(video=other, audio=audio))
    assert torch.allclose(z_v, z_v2, atol=1e-5)


def test_it_learns_alignment_from_real_clips():
    """Video and audio carry the same random signal; after training on aligned clips only, a
    clip whose audio follows another signal for a few frames scores higher."""
    torch.manual_seed(3)
    model = tiny(max_offset=3, smooth=3)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    t = 32

    def batch(n):
        sig = torch.randn(n, t, 4)
        sig = (sig + sig.roll(1, 1) + sig.roll(-1, 1)) / 3  # a little temporal smoothness
        video = sig.mean(-1)[:, None, :, None, None].expand(n, 1, t, 2, 2).clone()
        video = video + 0.5 * sig[..., :1].transpose(1, 2)[..., None, None]
        return video, sig

    for _ in range(150):
        video, audio = batch(8)
        loss = model(dict(video=video, audio=audio), samples(*[0] * 8), mode='loss')
        opt.zero_grad()
        loss['loss_align'].backward()
        opt.step()
    model.eval()
    video, audio = batch(16)
    edited = audio.clone()
    edited[8:, 12:20] = torch.randn(8, 8, 4)  # the second half: eight frames of other audio
    preds = model(dict(video=video, audio=edited), [AVDataSample() for _ in range(16)],
                  mode='predict')
    scores = torch.tensor([float(p.pred_score) for p in preds])
    assert float(scores[8:].min()) > float(scores[:8].max())
    assert len(preds[0].pred_frame_scores) == t
    assert not math.isnan(float(model.real_stat_std))


def test_bad_arguments():
    with pytest.raises(ValueError, match='max_offset'):
        tiny(max_offset=0)
    with pytest.raises(ValueError, match='smooth'):
        tiny(smooth=4)
    with pytest.raises(ValueError, match='score'):
        tiny(score='cosine')
    with pytest.raises(ValueError, match='video_norm'):
        tiny(video_norm='frame')
    model = tiny()
    with pytest.raises(ValueError, match='one per frame'):
        model.embed(dict(video=torch.randn(1, 1, 5, 2, 2), audio=torch.randn(1, 6, 4)))


def test_audio_envelope_keeps_only_the_loudness_timing():
    torch.manual_seed(4)
    model = AVAlignmentDetector(video_encoder=PooledLinear(1, 16), audio_encoder=nn.Linear(2, 16),
                                embed_dim=16, proj_dim=16, context_layers=1, kernel_size=3,
                                max_offset=2, audio_envelope_bands=3).eval()
    video, audio = torch.randn(1, 1, 8, 2, 2), torch.randn(1, 8, 6)  # 2 groups x 3 bands
    _, z_a = model.embed(dict(video=video, audio=audio))
    # Another voice with the same loudness over time: the bands of each group permuted, and a
    # louder recording (an offset in log-mel): the same embedding.
    other = audio.reshape(1, 8, 2, 3)[..., [2, 0, 1]].reshape(1, 8, 6) * 1.0 + 3.0
    _, z_a2 = model.embed(dict(video=video, audio=other))
    assert torch.allclose(z_a, z_a2, atol=1e-5)
    with pytest.raises(ValueError, match='multiple'):
        model.embed(dict(video=video, audio=torch.randn(1, 8, 7)))


def test_tolerance_counts_near_offsets_as_aligned():
    """With tolerance d the positives are the offsets |k| <= d; the score takes the best of them."""
    model = tiny(max_offset=3, tolerance=1, temperature=0.5)
    torch.manual_seed(5)
    z_v = nn.functional.normalize(torch.randn(2, 7, 4), dim=-1)
    z_a = nn.functional.normalize(torch.randn(2, 7, 4), dim=-1)
    loss = model.infonce(z_v, z_a)
    cos = torch.einsum('bte,bse->bts', z_v, z_a)
    for b in range(2):
        for t in range(7):
            want = 0.0
            for q in (cos[b, t], cos[b, :, t]):  # v -> a, then a -> v
                offs = [o for o in range(-3, 4) if 0 <= t + o < 7]
                logits = torch.stack([q[t + o] for o in offs]) / 0.5
                pos = torch.tensor([abs(o) <= 1 for o in offs])
                want -= float(logits[pos].logsumexp(0) - logits.logsumexp(0)) / 2
            assert float(loss[b, t]) == pytest.approx(want, abs=1e-5)
    agree = model.agreement(z_v, z_a)
    for t in range(7):
        best = max(float(cos[0, t, s]) for s in range(max(0, t - 1), min(7, t + 2)))
        assert float(agree[0, t]) == pytest.approx(best, abs=1e-6)
    # Without tolerance: the aligned pair only.
    assert torch.allclose(tiny().agreement(z_v, z_a), cos.diagonal(dim1=1, dim2=2))
    # Audio one frame behind its video (a_{t+1} = v_t) is aligned within the tolerance.
    lagged = torch.cat([z_v[:, :1], z_v[:, :-1]], dim=1)
    assert torch.allclose(model.agreement(z_v, lagged)[:, :-1], torch.ones(2, 6))
    assert not torch.allclose(tiny().agreement(z_v, lagged)[:, :-1], torch.ones(2, 6))
    with pytest.raises(ValueError, match='tolerance'):
        tiny(max_offset=3, tolerance=3)


def test_sync_search_scores_each_clip_at_its_own_lag():
    """The lag k* maximises the clip's mean agreement; frames are then compared at k*."""
    model = tiny(max_offset=4, sync_search=2)
    torch.manual_seed(6)
    z_v = nn.functional.normalize(torch.randn(2, 9, 4), dim=-1)
    # Clip 0: audio one frame behind its video (a_{t+1} = v_t); clip 1: in step.
    z_a = torch.stack([torch.cat([z_v[0, :1], z_v[0, :-1]]), z_v[1]])
    agree = model.agreement(z_v, z_a)
    assert torch.allclose(agree[0, :-1], torch.ones(8))  # compared at k* = +1
    cos = (z_v * z_a).sum(-1)
    assert float(agree[0, -1]) == pytest.approx(float(cos[0, -1]), abs=1e-6)  # no partner
    assert torch.allclose(agree[1], torch.ones(9))
    # A local mismatch at the clip's own lag is still a mismatch.
    z_a2 = z_a.clone()
    z_a2[0, 4] = -z_v[0, 3]
    assert float(model.agreement(z_v, z_a2)[0, 3]) == pytest.approx(-1.0, abs=1e-6)
    assert torch.allclose(tiny().agreement(z_v, z_a), cos)
    with pytest.raises(ValueError, match='sync_search'):
        tiny(sync_search=1, tolerance=1)
    with pytest.raises(ValueError, match='sync_search'):
        tiny(sync_search=-1)
