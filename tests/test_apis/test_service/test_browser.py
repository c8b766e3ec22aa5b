"""The service's page in a real headless Chromium (Playwright): drop a clip, see the verdict.

Chromium comes from the system packages (``/usr/bin/chromium``; tools/setup_env.sh installs it
with apt-get when missing); Playwright drives it through ``executable_path`` and never
downloads a browser.
"""

import glob
import os
import shutil

import pytest

pytest.importorskip('fastapi', reason='the serve extra (fastapi, uvicorn, python-multipart)')
pytest.importorskip('playwright', reason='playwright (tests extra)')

from holaframe.apis import init_detector  # noqa: E402
from holaframe.apis.service import ServiceSettings, VideoScorer, create_app  # noqa: E402
from holaframe.testing import generate_synthetic_avdf  # noqa: E402
from holaframe.testing.service_client import running_server  # noqa: E402
from holaframe.testing.tiny_dense_detector import write_tiny_dense_detector  # noqa: E402

CHROMIUM = os.environ.get('HOLAFRAME_CHROMIUM', '/usr/bin/chromium')
CHROMIUM_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--no-first-run', '--disable-sync']


def test_drop_a_video_and_see_the_verdict(tmp_path):
    # A missing browser is a broken test set-up, not a reason to skip: CI installs it.
    assert shutil.which(CHROMIUM) or os.path.isfile(CHROMIUM), (
        f'{CHROMIUM} not found: install Debian\'s chromium (tools/setup_env.sh does) or set '
        f'HOLAFRAME_CHROMIUM')
    from playwright.sync_api import sync_playwright

    generate_synthetic_avdf(str(tmp_path / 'data'), 0, 2, 0, 0, num_silent=0,
                            duration_range=(3.0, 3.2), frame_size=96)
    clip = sorted(glob.glob(f'{tmp_path}/data/val/**/*.mp4', recursive=True))[-1]
    cfg, ckpt = write_tiny_dense_detector(str(tmp_path))
    scorer = VideoScorer(init_detector(cfg, ckpt), identity=dict(config='tiny_dense.py'))
    uploads = tmp_path / 'uploads'
    uploads.mkdir()
    app = create_app(scorer, ServiceSettings(tmp_dir=str(uploads)))
    with running_server(app) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={'width': 900, 'height': 1100})
            page.goto(url + '/')
            assert page.title().startswith('holaframe')
            assert not page.is_visible('#result')
            page.set_input_files('#file', clip)
            page.wait_for_selector('#result:not([hidden])', timeout=120_000)
            verdict = page.inner_text('#verdict')
            assert verdict in ('Likely FAKE', 'Likely REAL')
            assert 'fake probability' in page.inner_text('#score')
            plot = page.locator('#timeline svg#timeline-plot')
            assert plot.is_visible()
            assert plot.locator('polyline').count() == 1
            assert page.get_attribute('#face-crop', 'src').startswith('data:image/jpeg;base64,')
            assert 'this model has no temporal localisation head' in page.inner_text(
                '#localization-note')
            assert 'error' not in (page.get_attribute('#status', 'class') or '')
            page.screenshot(path=str(tmp_path / 'result.png'), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / 'result.png').stat().st_size > 0
    assert os.listdir(uploads) == []
