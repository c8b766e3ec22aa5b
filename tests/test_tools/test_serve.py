"""tools/serve.py as a user starts it: a process on a port, the key from the environment."""

import glob
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip('fastapi', reason='the serve extra (fastapi, uvicorn, python-multipart)')

from holaframe.testing import generate_synthetic_avdf  # noqa: E402
from holaframe.testing.service_client import free_port, get_json, post_video  # noqa: E402
from holaframe.testing.tiny_detector import write_tiny_detector  # noqa: E402

REPO = Path(__file__).resolve().parents[2]


def test_serve_process_scores_with_the_environment_api_key(tmp_path):
    data = str(tmp_path / 'data')
    generate_synthetic_avdf(data, 0, 1, 0, 0, num_silent=0, duration_range=(3.0, 3.2),
                            frame_size=64)
    clip = glob.glob(f'{data}/val/**/*.mp4', recursive=True)[0]
    cfg, ckpt = write_tiny_detector(str(tmp_path), data, subset='val')
    port = free_port()
    env = dict(os.environ, HOLAFRAME_API_KEY='k3y', OMP_NUM_THREADS='1')
    proc = subprocess.Popen([sys.executable, str(REPO / 'tools' / 'serve.py'), cfg, ckpt,
                             '--port', str(port), '--queue-size', '2', '--max-side', '640',
                             '--tmp-dir', str(tmp_path), '--log-level', 'warning'],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    url = f'http://127.0.0.1:{port}'
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status, health = get_json(url + '/healthz', timeout=2)
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, 'tools/serve.py did not start in 120 s'
                time.sleep(0.3)
        assert status == 200
        assert health['limits'] == dict(max_upload_mb=200.0, max_duration_s=300.0, max_side=640,
                                        workers=1, queue_size=2, api_key_required=True)
        assert health['model']['config'] == 'tiny_hola.py'
        assert len(health['model']['checkpoint_sha256']) == 64
        assert post_video(url + '/v1/score', clip)[0] == 401
        status, _, body = post_video(url + '/v1/score', clip, headers={'X-API-Key': 'k3y'})
        assert status == 200 and 0 <= body['score'] <= 1
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert 'API key required' in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ['data', 'tiny_hola.pth', 'tiny_hola.py']
