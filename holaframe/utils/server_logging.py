"""uvicorn's console logging without ``logging.config.dictConfig``.

uvicorn configures its loggers with ``dictConfig`` unless ``log_config=None``; a non-incremental
``dictConfig`` closes every handler of the process first, so a service started in a process that
also runs MMEngine (a test session, a notebook) would silently close MMEngine's log files. The
service passes ``log_config=None`` and attaches uvicorn's own formatters here instead, touching
no other logger.
"""

import logging
import sys

__all__ = ['configure_uvicorn_logging']

_MARK = '_holaframe_service_handler'


def configure_uvicorn_logging(stream=None) -> None:
    """Give the ``uvicorn`` and ``uvicorn.access`` loggers one console handler each (idempotent).

    The formats are uvicorn's defaults (level prefix; client, request line and status for
    access lines). Levels are left to uvicorn (``log_level``).
    """
    from uvicorn.logging import AccessFormatter, DefaultFormatter

    stream = stream or sys.stderr
    formats = (('uvicorn', DefaultFormatter('%(levelprefix)s %(message)s')),
               ('uvicorn.access', AccessFormatter(
                   '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s')))
    for name, formatter in formats:
        logger = logging.getLogger(name)
        for handler in [h for h in logger.handlers if getattr(h, _MARK, False)]:
            logger.removeHandler(handler)
        handler = logging.StreamHandler(stream)
        handler.setFormatter(formatter)
        setattr(handler, _MARK, True)
        logger.addHandler(handler)
        logger.propagate = False
