"""Stream a request body (multipart form field ``video``, or the raw body) to a temporary file."""

import os
import tempfile
from typing import Optional

from .errors import ServiceError

__all__ = ['receive_upload', 'RAW_TYPES']

#: Content types accepted as a raw video body (besides any ``video/*``).
RAW_TYPES = ('application/octet-stream', )

#: Bytes a multipart envelope may add to the video (boundaries, part headers, small fields).
MULTIPART_SLACK = 64 * 1024


def _too_large(limit: int) -> ServiceError:
    return ServiceError(413, 'upload_too_large',
                        f'the upload exceeds the limit of {limit / 2**20:g} MiB')


async def receive_upload(request, max_bytes: int, directory: Optional[str] = None) -> str:
    """Write the uploaded video to a new temporary file and return its path.

    The body is read in chunks as it arrives; the upload is refused (413) as soon as the video
    passes ``max_bytes`` (or at once when ``Content-Length`` says it will). On any error the file
    is removed before the error propagates; on success the caller removes it.

    Raises:
        ServiceError: 413 too large; 415 a content type other than ``multipart/form-data``,
            ``video/*`` or ``application/octet-stream``; 422 no ``video`` file field, or an
            empty or malformed body.
    """
    ctype = request.headers.get('content-type', '')
    main_type = ctype.split(';')[0].strip().lower()
    multipart = main_type == 'multipart/form-data'
    if not (multipart or main_type.startswith('video/') or main_type in RAW_TYPES):
        given = repr(main_type) if main_type else 'a body without Content-Type'
        raise ServiceError(415, 'unsupported_content_type',
                           f'send the video as multipart/form-data (field "video") or as the raw '
                           f'body (video/* or application/octet-stream), not {given}')
    length = request.headers.get('content-length')
    if length is not None and length.isdigit() and int(length) > max_bytes + (
            MULTIPART_SLACK if multipart else 0):
        raise _too_large(max_bytes)
    fd, path = tempfile.mkstemp(prefix='holaframe-upload-', suffix='.video', dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            if multipart:
                written = await _receive_multipart(request, ctype, f, max_bytes)
            else:
                written = 0
                async for chunk in request.stream():
                    written += len(chunk)
                    if written > max_bytes:
                        raise _too_large(max_bytes)
                    f.write(chunk)
        if written == 0:
            raise ServiceError(422, 'empty_upload', 'the uploaded video is empty')
        return path
    except BaseException:
        os.unlink(path)
        raise


async def _receive_multipart(request, ctype: str, f, max_bytes: int) -> int:
    """Parse a multipart body as it streams; the first file part (or field ``video``) is kept."""
    from python_multipart.multipart import MultipartParser, parse_options_header

    _, params = parse_options_header(ctype)
    boundary = params.get(b'boundary')
    if not boundary:
        raise ServiceError(422, 'malformed_upload', 'multipart/form-data without a boundary')
    state = dict(field=b'', value=b'', headers={}, target=None, chosen=False, written=0,
                 total=0)

    def on_part_begin():
        state['headers'] = {}
        state['target'] = None

    def on_header_field(data, start, end):
        state['field'] += data[start:end]

    def on_header_value(data, start, end):
        state['value'] += data[start:end]

    def on_header_end():
        state['headers'][state['field'].lower()] = state['value']
        state['field'], state['value'] = b'', b''

    def on_headers_finished():
        _, disp = parse_options_header(state['headers'].get(b'content-disposition', b''))
        is_video = disp.get(b'name') == b'video' or b'filename' in disp
        if is_video and not state['chosen']:
            state['chosen'] = True
            state['target'] = f

    def on_part_data(data, start, end):
        if state['target'] is not None:
            state['written'] += end - start
            if state['written'] > max_bytes:
                raise _too_large(max_bytes)
            f.write(data[start:end])

    parser = MultipartParser(boundary, dict(
        on_part_begin=on_part_begin, on_header_field=on_header_field,
        on_header_value=on_header_value, on_header_end=on_header_end,
        on_headers_finished=on_headers_finished, on_part_data=on_part_data))
    async for chunk in request.stream():
        state['total'] += len(chunk)
        if state['total'] > max_bytes + MULTIPART_SLACK:
            raise _too_large(max_bytes)
        try:
            parser.write(chunk)
        except ServiceError:
            raise
        except Exception as exc:  # noqa: BLE001 - python-multipart's parse errors
            raise ServiceError(422, 'malformed_upload',
                               f'the multipart body could not be parsed: {exc}') from None
    if not state['chosen']:
        raise ServiceError(422, 'missing_video',
                           'the form has no file field: send the video as field "video"')
    return state['written']
