"""Serve a detector over HTTP: ``python tools/serve.py CONFIG CHECKPOINT [options]``.

Starts the FastAPI app of :mod:`holaframe.apis.service` under uvicorn: the model is loaded once;
``POST /v1/score`` takes a video (multipart field ``video``, or the raw body) and answers JSON;
``GET /`` is a page to drop a video on; ``GET /healthz`` reports the model and the load. Uploads
are streamed to a temporary file, probed with PyAV, scored on ``--workers`` threads and removed;
requests beyond ``--workers + --queue-size`` get 503 with ``Retry-After``. See docs/serving.md.

``--backend onnxruntime`` serves an exported graph (``tools/deployment/export_onnx.py``):
CHECKPOINT is then the ``.onnx`` file; the pipeline and the answers are the same.

The API key, if any, comes from ``--api-key`` or the ``HOLAFRAME_API_KEY`` environment variable
(prefer the variable: a command line is visible to other users of the machine).
"""

import os

os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

import argparse
import hashlib
import os.path as osp
import sys

import torch

from holaframe.apis.backends import BACKENDS, build_scoring_model
from holaframe.apis.service import ServiceSettings, VideoScorer, create_app
from holaframe.utils.checkpoint import set_unsafe_load
from holaframe.utils.server_logging import configure_uvicorn_logging
from holaframe.version import __version__


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Serve a holaframe detector over HTTP')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file or http(s) URL (weights only)')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to listen on (default 127.0.0.1; 0.0.0.0 for all)')
    parser.add_argument('--port', type=int, default=8000)
    parser.add_argument('--workers', type=int, default=1,
                        help='videos scored at once (threads sharing the one model; default 1)')
    parser.add_argument('--queue-size', type=int, default=4,
                        help='requests that may wait for a worker before 503 (default 4)')
    parser.add_argument('--max-upload-mb', type=float, default=200.0)
    parser.add_argument('--max-duration', type=float, default=300.0, help='seconds')
    parser.add_argument('--max-side', type=int, default=1920,
                        help='longest accepted frame side in pixels')
    parser.add_argument('--threshold', type=float, default=0.5,
                        help='label fake when score >= threshold')
    parser.add_argument('--no-face-crop', action='store_true',
                        help='feed whole frames (the model was trained on face-centred clips)')
    parser.add_argument('--face-detector', default='auto', choices=['auto', 'dlib_hog', 'haar'])
    parser.add_argument('--on-no-face', default='center', choices=['center', 'error'],
                        help='no face found: score the centre square, or answer 422')
    parser.add_argument('--quantize', choices=['int8'], help='int8 dynamic quantization (CPU)')
    parser.add_argument('--backend', choices=BACKENDS, default='pytorch',
                        help='pytorch (default) or onnxruntime: then CHECKPOINT is the .onnx '
                        'file from tools/deployment/export_onnx.py (CPU)')
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--threads', type=int,
                        help='torch threads per worker (default: CPU cores / workers)')
    parser.add_argument('--api-key', default=os.environ.get('HOLAFRAME_API_KEY'),
                        help='require this key (X-API-Key header); default $HOLAFRAME_API_KEY')
    parser.add_argument('--tmp-dir', help='folder of uploads while scored (default: system)')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='full pickle load of a trusted checkpoint (can run code)')
    parser.add_argument('--log-level', default='info')
    return parser.parse_args(argv)


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def build_app(args):
    """Load the model once and build the app (also used by the benchmark)."""
    set_unsafe_load(args.unsafe_load)
    threads = args.threads or max(1, (os.cpu_count() or 1) // args.workers)
    torch.set_num_threads(threads)
    backend = getattr(args, 'backend', 'pytorch')
    model = build_scoring_model(args.config, args.checkpoint, backend=backend,
                                device=args.device, quantize=args.quantize, threads=threads)
    identity = dict(
        config=osp.basename(args.config), checkpoint=osp.basename(args.checkpoint),
        checkpoint_sha256=file_sha256(args.checkpoint) if osp.isfile(args.checkpoint) else None,
        model=type(model).__name__,
        parameters=(int(sum(p.numel() for p in model.parameters()))
                    if hasattr(model, 'parameters') else None),
        quantize=args.quantize if backend == 'pytorch' else getattr(model, 'precision', None),
        backend=backend, device=str(args.device), holaframe=__version__,
        torch=torch.__version__)
    scorer = VideoScorer(model, threshold=args.threshold, face_crop=not args.no_face_crop,
                         face_detector=args.face_detector, on_no_face=args.on_no_face,
                         identity=identity)
    settings = ServiceSettings(max_upload_mb=args.max_upload_mb,
                               max_duration_s=args.max_duration, max_side=args.max_side,
                               workers=args.workers, queue_size=args.queue_size,
                               api_key=args.api_key or None, tmp_dir=args.tmp_dir)
    return create_app(scorer, settings)


def main(argv=None) -> int:
    args = parse_args(argv)
    import uvicorn
    try:
        app = build_app(args)
    except (FileNotFoundError, ValueError) as exc:
        if args.backend != 'onnxruntime':
            raise
        print(f'serve.py: error: {exc}', file=sys.stderr)
        return 1
    print(f'holaframe service on http://{args.host}:{args.port}/ (model '
          f'{osp.basename(args.config)}, {args.workers} worker(s), queue {args.queue_size}'
          f'{", API key required" if args.api_key else ""})', file=sys.stderr, flush=True)
    configure_uvicorn_logging()
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, log_config=None,
                proxy_headers=True, server_header=False)
    return 0


if __name__ == '__main__':
    sys.exit(main())
