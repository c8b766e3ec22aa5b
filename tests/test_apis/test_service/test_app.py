"""The scoring service over real HTTP: results, every error status, the queue, no kept files."""

import glob
import os
import os.path as osp
import threading
import time

import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate

pytest.importorskip('fastapi', reason='the serve extra (fastapi, uvicorn, python-multipart)')

from holaframe.apis import init_detector  # noqa: E402
from holaframe.apis.service import (  # noqa: E402
    ServiceSettings,
    VideoScorer,
    create_app,
    probe_video,
    segments_from_scores,
)
from holaframe.testing import generate_synthetic_avdf, write_av_clip  # noqa: E402
from holaframe.testing.service_client import get_json, post_video, running_server  # noqa: E402
from holaframe.testing.tiny_dense_detector import write_tiny_dense_detector  # noqa: E402
from holaframe.testing.tiny_detector import write_tiny_detector  # noqa: E402
from holaframe.testing.tiny_localization_detector import (  # noqa: E402
    write_tiny_localization_detector,
)


@pytest.fixture(scope='module')
def assets(tmp_path_factory):
    root = tmp_path_factory.mktemp('service')
    data = str(root / 'data')
    generate_synthetic_avdf(data, 0, 2, 0, 0, num_silent=1, duration_range=(3.0, 3.2),
                            frame_size=96, silent_size=(96, 160))
    clips = sorted(glob.glob(f'{data}/val/**/*.mp4', recursive=True))
    silent = [c for c in clips if 'silent_videos' in c][0]
    talking = [c for c in clips if 'silent_videos' not in c]
    cfg, ckpt = write_tiny_detector(str(root), data, subset='val')
    model = init_detector(cfg, ckpt)
    noise = str(root / 'noise.mp4')
    rng = np.random.default_rng(0)
    write_av_clip(noise, [rng.integers(0, 256, (96, 96, 3), dtype=np.uint8) for _ in range(30)],
                  None)
    return dict(root=root, talking=talking, silent=silent, noise=noise, model=model,
                scorer=VideoScorer(model, identity=dict(config='tiny_hola.py')))


@pytest.fixture()
def tmp_uploads(tmp_path):
    d = tmp_path / 'uploads'
    d.mkdir()
    yield str(d)
    assert os.listdir(d) == [], 'an upload was kept after its response'


def serve(assets, tmp_uploads, scorer=None, **kw):
    settings = ServiceSettings(tmp_dir=tmp_uploads, **kw)
    return running_server(create_app(scorer or assets['scorer'], settings))


def test_score_multipart_raw_and_chunked(assets, tmp_uploads):
    with serve(assets, tmp_uploads) as url:
        status, health = get_json(url + '/healthz')
        assert status == 200 and health['status'] == 'ok'
        assert health['limits']['queue_size'] == 4 and not health['limits']['api_key_required']
        results = []
        for kw in (dict(), dict(raw=True), dict(chunked=True), dict(raw=True, chunked=True)):
            status, headers, body = post_video(url + '/v1/score', assets['talking'][0], **kw)
            assert status == 200, body
            assert headers['cache-control'] == 'no-store'
            results.append(body['score'])
        assert len(set(results)) == 1  # the same video whatever the transfer
        assert 0.0 <= body['score'] <= 1.0
        assert body['label'] == ('fake' if body['score'] >= 0.5 else 'real')
        assert body['threshold'] == 0.5 and body['has_audio'] is True
        assert body['timeline'] is None and body['segments'] is None
        assert body['localization']['available'] is False
        assert 'no frame-level or temporal localisation head' in body['localization']['note']
        assert body['proposals'] is None
        assert body['face']['crop'].startswith('data:image/jpeg;base64,')
        assert body['video']['width'] == 96 and body['video']['codec'] == 'h264'
        assert body['model']['config'] == 'tiny_hola.py'
        for key in ('upload_s', 'probe_s', 'queue_s', 'decode_s', 'face_s', 'model_s',
                    'total_s', 'server_overhead_s'):
            assert body['timings'][key] >= 0
        status, _, body = post_video(url + '/v1/score', assets['silent'])
        assert status == 200 and body['has_audio'] is False


def test_page(assets, tmp_uploads):
    from http.client import HTTPConnection
    with serve(assets, tmp_uploads) as url:
        conn = HTTPConnection('127.0.0.1', int(url.rsplit(':', 1)[1]))
        conn.request('GET', '/')
        resp = conn.getresponse()
        html = resp.read().decode()
        assert resp.status == 200 and '<input id="file" type="file"' in html
        assert "default-src 'none'" in resp.getheader('content-security-policy')


def test_413_upload_too_large(assets, tmp_uploads):
    size = osp.getsize(assets['talking'][0])
    with serve(assets, tmp_uploads, max_upload_mb=size / 2 / 2**20) as url:
        for kw in (dict(), dict(raw=True), dict(chunked=True), dict(raw=True, chunked=True)):
            status, _, body = post_video(url + '/v1/score', assets['talking'][0], **kw)
            assert status == 413, (kw, body)
            assert body['error']['code'] == 'upload_too_large'


def test_415_not_a_video(assets, tmp_uploads, tmp_path):
    import cv2
    png = str(tmp_path / 'still.mp4')  # a PNG named .mp4: the content decides
    cv2.imwrite(png.replace('.mp4', '.png'), np.zeros((32, 32, 3), np.uint8))
    os.rename(png.replace('.mp4', '.png'), png)
    with serve(assets, tmp_uploads) as url:
        cases = [dict(data=b'just some text, not a video' * 10),
                 dict(data=b'\x00\x00\x00\x18ftypmp42' + b'\x00' * 64, raw=True),
                 dict(path=png),
                 dict(path=assets['talking'][0], raw=True, content_type='text/plain')]
        for kw in cases:
            status, _, body = post_video(url + '/v1/score', **kw)
            assert status == 415, (kw.get('path'), body)
            assert body['error']['code'] in ('unsupported_media', 'unsupported_content_type')


def test_422_limits_and_bad_requests(assets, tmp_uploads):
    clip = assets['talking'][0]
    with serve(assets, tmp_uploads, max_duration_s=1.0) as url:
        status, _, body = post_video(url + '/v1/score', clip)
        assert status == 422 and body['error']['code'] == 'video_too_long'
        assert 'limit is 1 s' in body['error']['message']
    with serve(assets, tmp_uploads, max_side=64) as url:
        status, _, body = post_video(url + '/v1/score', clip)
        assert status == 422 and body['error']['code'] == 'resolution_too_high'
        # A file in a field not named "video" is taken too (the first file of the form).
        status, _, body = post_video(url + '/v1/score', clip, field='other')
        assert status == 422 and body['error']['code'] == 'resolution_too_high'
        status, _, body = post_video(url + '/v1/score?tracks=every', clip)
        assert status == 422 and body['error']['code'] == 'bad_parameter'
        status, _, body = post_video(url + '/v1/score', data=b'', raw=True)
        assert status == 422 and body['error']['code'] == 'empty_upload'
    strict = VideoScorer(assets['model'], on_no_face='error')
    with serve(assets, tmp_uploads, scorer=strict) as url:
        status, _, body = post_video(url + '/v1/score', assets['noise'])
        assert status == 422 and body['error']['code'] == 'no_face'
        assert 'no face found' in body['error']['message']


def test_422_form_without_file(assets, tmp_uploads):
    from http.client import HTTPConnection
    body = (b'--xyz\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--xyz--\r\n')
    with serve(assets, tmp_uploads) as url:
        conn = HTTPConnection('127.0.0.1', int(url.rsplit(':', 1)[1]))
        conn.request('POST', '/v1/score', body=body,
                     headers={'Content-Type': 'multipart/form-data; boundary=xyz'})
        resp = conn.getresponse()
        assert resp.status == 422 and b'missing_video' in resp.read()


def test_401_api_key(assets, tmp_uploads):
    clip = assets['talking'][0]
    with serve(assets, tmp_uploads, api_key='s3cret') as url:
        for headers in ({}, {'X-API-Key': 'wrong'}, {'Authorization': 'Bearer s3cre'}):
            status, resp_headers, body = post_video(url + '/v1/score', clip, headers=headers)
            assert status == 401 and body['error']['code'] == 'unauthorized'
            assert resp_headers['www-authenticate'] == 'Bearer'
        for headers in ({'X-API-Key': 's3cret'}, {'Authorization': 'Bearer s3cret'}):
            status, _, body = post_video(url + '/v1/score', clip, headers=headers)
            assert status == 200, body
        assert get_json(url + '/healthz')[1]['limits']['api_key_required'] is True


class GatedScorer(VideoScorer):
    """Scores only once the test opens the gate, so that requests pile up deterministically."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.gate = threading.Event()
        self.started = threading.Semaphore(0)

    def score(self, *args, **kwargs):
        self.started.release()
        assert self.gate.wait(60)
        return super().score(*args, **kwargs)


def test_503_beyond_queue_with_8_concurrent_requests(assets, tmp_uploads):
    scorer = GatedScorer(assets['model'])
    results = []
    lock = threading.Lock()
    with serve(assets, tmp_uploads, scorer=scorer, workers=1, queue_size=4,
               retry_after_s=7) as url:

        def call():
            out = post_video(url + '/v1/score', assets['talking'][0])
            with lock:
                results.append(out)

        threads = [threading.Thread(target=call) for _ in range(8)]
        for t in threads:
            t.start()
        assert scorer.started.acquire(timeout=60)  # one request is being scored
        deadline = time.monotonic() + 60
        while len(results) < 3 and time.monotonic() < deadline:  # the 3 beyond capacity
            time.sleep(0.05)
        health = get_json(url + '/healthz')[1]
        assert health['in_progress'] == 5 and health['capacity'] == 5
        scorer.gate.set()
        for t in threads:
            t.join(120)
        assert get_json(url + '/healthz')[1]['rejected'] == 3
    statuses = sorted(r[0] for r in results)
    assert statuses == [200] * 5 + [503] * 3
    for status, headers, body in results:
        if status == 503:
            assert headers['retry-after'] == '7' and body['error']['code'] == 'busy'
        else:
            assert 0 <= body['score'] <= 1


def test_dense_model_timeline_and_segments(assets, tmp_path):
    cfg, ckpt = write_tiny_dense_detector(str(tmp_path))
    scorer = VideoScorer(init_detector(cfg, ckpt), threshold=0.5)
    clip = assets['talking'][0]
    body = scorer.score(clip, probe_video(clip))
    tl = body['timeline']
    assert body['localization']['available'] is True
    # The 64-frame window of a 3.0-3.2 s clip: every position is a real frame.
    assert len(tl['times']) == len(tl['scores']) == 64
    assert tl['times'][1] == pytest.approx(0.04)
    assert body['segments'] == segments_from_scores(tl['times'], tl['scores'], 0.5)
    # A window longer than the clip: the repeated frames are left out of the timeline.
    long_window = VideoScorer(init_detector(cfg, ckpt, cfg_options={
        'test_pipeline.1.clip_len': 120}))
    tl = long_window.score(clip, probe_video(clip))['timeline']
    frames = probe_video(clip).duration_s * 25
    assert abs(len(tl['times']) - frames) <= 1 and len(tl['scores']) == len(tl['times'])
    assert tl['times'] == sorted(set(tl['times']))


def test_localization_head_segments_and_proposals(assets, tmp_path):
    cfg, ckpt = write_tiny_localization_detector(str(tmp_path))
    model = init_detector(cfg, ckpt)
    clip = assets['talking'][0]
    info = probe_video(clip)
    # The threshold below every confidence lists every proposal; above them, none.
    for threshold in (0.0, 1.01):
        body = VideoScorer(model, threshold=threshold, face_crop=False).score(clip, info)
        assert body['localization'] == dict(available=True, source='localization_head',
                                            note=body['localization']['note'])
        assert 'localisation head' in body['localization']['note']
        tl = body['timeline']
        # Every frame of the 3.0-3.2 s video, none of the padding to the 64-frame window.
        assert abs(len(tl['times']) - info.duration_s * 25) <= 1
        assert tl['times'] == sorted(set(tl['times'])) and len(tl['scores']) == len(tl['times'])
        props = body['proposals']
        assert 1 <= len(props) <= 10
        conf = [p['confidence'] for p in props]
        assert conf == sorted(conf, reverse=True)
        for p in props:
            assert 0.0 <= p['start'] < p['end'] <= info.duration_s + 0.05
        # The same segments as the model's own post-processed output.
        scorer = VideoScorer(model, face_crop=False)
        data = scorer.post(scorer.pre(dict(filename=clip, file='upload', sample_idx=0,
                                            gt_label=-1, subset='inference')))
        with torch.no_grad():
            rows = model.test_step(pseudo_collate([data]))[0].pred_segments.numpy()
        expected = sorted([round(float(s), 3), round(float(e), 3)] for c, s, e in rows
                          if c >= threshold)
        assert body['segments'] == expected
        if threshold == 0.0:
            assert len(body['segments']) == len(rows) >= len(props)
        else:
            assert body['segments'] == []


def test_segments_from_scores():
    t = [0.0, 0.04, 0.08, 0.12, 0.16]
    assert segments_from_scores(t, [0.1, 0.9, 0.8, 0.2, 0.7], 0.5) == [[0.04, 0.12],
                                                                       [0.16, 0.2]]
    assert segments_from_scores(t, [0.1] * 5, 0.5) == []
    assert segments_from_scores([], [], 0.5) == []


def test_every_face_track_is_scored_on_request(assets, tmp_path):
    pytest.importorskip('skimage', reason='scikit-image (tests extra) ships the photograph')
    from holaframe.datasets.transforms.face_detection import dlib_available
    from holaframe.testing.face_scenes import moving_face_clip
    if not dlib_available():
        pytest.skip('dlib-bin is an install requirement on x86_64 Linux only')
    frames, _ = moving_face_clip(np.random.default_rng(3), [
        dict(start=(350, 360), end=(420, 380), face_px=150),
        dict(start=(950, 300), end=(900, 330), face_px=75)], num_frames=16)
    clip = str(tmp_path / 'two_faces.mp4')
    write_av_clip(clip, list(frames), None)
    scorer = VideoScorer(assets['model'])
    info = probe_video(clip)
    single = scorer.score(clip, info)
    assert single['tracks'] is None and single['face']['num_tracks'] >= 2
    every = scorer.score(clip, info, all_tracks=True)
    tracks = every['tracks']
    assert len(tracks) == min(single['face']['num_tracks'], scorer.max_tracks)
    assert [t['face']['track_index'] for t in tracks] == list(range(len(tracks)))
    assert every['score'] == tracks[0]['score'] == single['score']
    assert len({tuple(t['face']['box']) for t in tracks}) == len(tracks)
    assert every['has_audio'] is False


def test_500_is_json(assets, tmp_uploads):
    class Broken(VideoScorer):
        def score(self, *args, **kwargs):
            raise RuntimeError('/secret/path exploded')

    with serve(assets, tmp_uploads, scorer=Broken(assets['model'])) as url:
        status, _, body = post_video(url + '/v1/score', assets['talking'][0])
    assert status == 500 and body['error']['code'] == 'internal_error'
    assert '/secret/path' not in body['error']['message']


def test_serving_keeps_the_log_files_of_the_process_open(assets, tmp_uploads, tmp_path):
    """uvicorn's default dictConfig closes every handler; MMEngine's log file must survive."""
    import logging

    from mmengine.logging import MMLogger
    log_file = tmp_path / 'run.log'
    logger = MMLogger.get_instance('service_log_test', log_file=str(log_file))
    files = [h for h in logger.handlers if isinstance(h, logging.FileHandler)]
    assert files
    with serve(assets, tmp_uploads) as url:
        assert get_json(url + '/healthz')[0] == 200
    assert all(h.stream is not None for h in files)
    logger.info('still logging')
    for h in files:
        h.flush()
    assert 'still logging' in log_file.read_text()
