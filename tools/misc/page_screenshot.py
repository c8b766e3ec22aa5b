"""Score a video through the service's page in headless Chromium and save a screenshot.

``python tools/misc/page_screenshot.py URL VIDEO OUT.png [--width 900]``: opens ``URL`` (a
running ``tools/serve.py``), drops ``VIDEO`` on the page, waits for the result and writes a
screenshot of the whole page. Chromium comes from the system (``--chromium``, default
``/usr/bin/chromium``); Playwright never downloads a browser. Used for docs/serving.md.
"""

import argparse

CHROMIUM_ARGS = ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
                 '--disable-component-update', '--no-first-run', '--disable-sync']


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('url')
    parser.add_argument('video')
    parser.add_argument('out')
    parser.add_argument('--width', type=int, default=900)
    parser.add_argument('--chromium', default='/usr/bin/chromium')
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={'width': args.width, 'height': 900})
            page.goto(args.url)
            page.set_input_files('#file', args.video)
            page.wait_for_selector('#result:not([hidden])', timeout=300_000)
            page.screenshot(path=args.out, full_page=True)
        finally:
            browser.close()
    print(f'written to {args.out}')


if __name__ == '__main__':
    main()
