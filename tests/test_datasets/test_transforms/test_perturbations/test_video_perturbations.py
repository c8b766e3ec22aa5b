"""Each video perturbation changes the frames in its documented direction, more at higher levels."""

import copy

import cv2
import numpy as np
import pytest

from holaframe.datasets.transforms.perturbations import (
    VideoBlockOcclusion,
    VideoColorContrast,
    VideoColorSaturation,
    VideoGaussianBlur,
    VideoGaussianNoise,
    VideoH264Compression,
    VideoJPEGCompression,
)


def textured(frames=6, height=64, width=80, seed=0):
    """Colourful frames with detail at several scales, moving right by 2 px a frame."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width + 2 * frames]
    img = np.stack([120 + 60 * np.sin(x / (3.0 + c)) * np.cos(y / (4.0 + 2 * c)) for c in
                    range(3)], -1)
    img = np.clip(img + rng.normal(0, 20, img.shape), 0, 255)
    return np.stack([img[:, 2 * t:2 * t + width] for t in range(frames)]).astype(np.uint8)


def apply(cls, imgs, level, **kwargs):
    results = dict(imgs=imgs.copy(), file='real/a.mp4', filename='/d/real/a.mp4',
                   avg_fps=25.0)
    return cls(level=level, seed=0, **kwargs)(results)['imgs']


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255.0 ** 2 / max(mse, 1e-12))


def chroma(imgs):
    f = imgs.astype(np.float64)
    y = f @ np.array([0.299, 0.587, 0.114])
    return np.mean(np.abs(f - y[..., None]))


def test_saturation_falls_with_level_and_level5_is_grey():
    imgs = textured()
    values = [chroma(imgs)] + [chroma(apply(VideoColorSaturation, imgs, lv)) for lv in
                               range(1, 6)]
    assert all(a > b for a, b in zip(values, values[1:])), values
    # Chroma scales by the level's factor (up to rounding to uint8).
    for lv, factor in enumerate(VideoColorSaturation.levels[:4], start=1):
        assert values[lv] == pytest.approx(values[0] * factor, abs=0.5)
    grey = apply(VideoColorSaturation, imgs, 5).astype(int)
    assert np.abs(grey - grey.mean(-1, keepdims=True)).max() <= 1
    # Luma is kept.
    luma = imgs.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    assert np.abs(grey.mean(-1) - luma).mean() < 1.0


def test_contrast_scales_intensity_by_the_factor():
    imgs = textured()
    for lv, factor in enumerate(VideoColorContrast.levels, start=1):
        out = apply(VideoColorContrast, imgs, lv)
        assert np.array_equal(out, np.floor(imgs.astype(np.float32) * np.float32(factor)))
        assert out.mean() / imgs.mean() == pytest.approx(factor, abs=0.01)


def test_block_occlusion_paints_more_grey_blocks_at_higher_levels():
    imgs = textured(height=256, width=256)
    grey = []
    for lv in range(1, 6):
        out = apply(VideoBlockOcclusion, imgs, lv)
        mask = np.all(out == 128, axis=-1) & ~np.all(imgs == 128, axis=-1)
        grey.append(mask.mean())
        changed = np.any(out != imgs, axis=-1)
        assert np.array_equal(changed, changed & mask)  # only grey pixels are written
        # At most blocks x 64 pixels per frame (256 px short side: the protocol's count).
        assert mask.reshape(len(out), -1).sum(1).max() <= VideoBlockOcclusion.levels[lv - 1] * 64
        assert not np.array_equal(mask[0], mask[1])  # drawn anew for every frame
    assert all(a < b for a, b in zip(grey, grey[1:])), grey
    # Small frames still get blocks (the published code paints none under 256 px).
    assert VideoBlockOcclusion(level=1).num_blocks(224, 224) == 14


def test_gaussian_noise_has_the_protocol_variance_in_luma():
    flat = np.full((4, 64, 64, 3), 128, np.uint8)
    stds = []
    for lv, variance in enumerate(VideoGaussianNoise.levels[:4], start=1):
        out = apply(VideoGaussianNoise, flat, lv).astype(np.float64)
        luma = (out - 128.0) @ np.array([0.299, 0.587, 0.114])
        expected = 255.0 * np.sqrt(variance) * 255.0 / 219.0
        assert luma.std() == pytest.approx(expected, rel=0.1), (lv, luma.std(), expected)
        stds.append(luma.std())
    assert all(a < b for a, b in zip(stds, stds[1:]))
    imgs = textured()
    assert psnr(imgs, apply(VideoGaussianNoise, imgs, 5)) < psnr(imgs, apply(
        VideoGaussianNoise, imgs, 1)) - 10


def test_blur_is_opencvs_gaussian_and_removes_more_detail_at_higher_levels():
    imgs = textured()
    sharpness = []
    for lv, k in enumerate(VideoGaussianBlur.levels, start=1):
        out = apply(VideoGaussianBlur, imgs, lv)
        assert np.array_equal(out[2], cv2.GaussianBlur(imgs[2], (k, k), k / 6.0))
        sharpness.append(cv2.Laplacian(out[0], cv2.CV_64F).var())
    assert cv2.Laplacian(imgs[0], cv2.CV_64F).var() > sharpness[0]
    assert all(a > b for a, b in zip(sharpness, sharpness[1:])), sharpness


@pytest.mark.parametrize('codec', [False, True])
def test_jpeg_psnr_falls_with_level(codec):
    imgs = textured()
    values = [psnr(imgs, apply(VideoJPEGCompression, imgs, lv, codec=codec)) for lv in
              range(1, 6)]
    assert values[0] > values[2] > values[4], values
    if not codec:  # the protocol's resampling: strictly worse at every level
        assert all(a > b for a, b in zip(values, values[1:])), values


def test_h264_round_trip_psnr_falls_with_crf_and_keeps_odd_sizes():
    imgs = textured(frames=8)
    values = [psnr(imgs, apply(VideoH264Compression, imgs, lv)) for lv in (1, 3, 5)]
    assert values[0] > values[1] > values[2], values
    odd = textured(frames=3, height=41, width=47)
    out = apply(VideoH264Compression, odd, 2)
    assert out.shape == odd.shape and psnr(odd, out) > 20


def test_h264_equals_pyav_per_frame_conversions():
    """The clip-wide swscale contexts give the pixels of PyAV's own per-frame conversions."""
    import fractions

    import av
    imgs = textured(frames=5, height=48, width=64)
    enc = av.CodecContext.create('libx264', 'w')
    enc.width, enc.height, enc.pix_fmt = 64, 48, 'yuv420p'
    enc.time_base, enc.framerate = fractions.Fraction(1, 25), 25
    enc.thread_count = 1
    enc.options = {'crf': '35', 'preset': 'medium', 'x264-params': 'mbtree=0'}
    packets = []
    for i, img in enumerate(imgs):
        vf = av.VideoFrame.from_ndarray(img, format='rgb24').reformat(format='yuv420p')
        vf.pts = i
        packets += enc.encode(vf)
    packets += enc.encode(None)
    dec = av.CodecContext.create('h264', 'r')
    dec.thread_count = 1
    expected = np.stack([f.to_ndarray(format='rgb24') for p in packets + [None]
                         for f in dec.decode(p)])
    assert np.array_equal(apply(VideoH264Compression, imgs, 3), expected)


def test_video_perturbations_do_not_write_into_their_input():
    imgs = textured()
    keep = imgs.copy()
    for cls in (VideoBlockOcclusion, VideoGaussianNoise, VideoColorSaturation):
        cls(level=5, seed=0)(dict(imgs=imgs, file='a'))
    assert np.array_equal(imgs, keep)
    assert copy.deepcopy(keep).flags.writeable
