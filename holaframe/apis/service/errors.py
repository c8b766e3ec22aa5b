"""Errors of the scoring service, each with its HTTP status."""

from typing import Dict, Optional

__all__ = ['ServiceError']


class ServiceError(Exception):
    """A request that cannot be served: answered as JSON ``{"error": {...}}`` with ``status``.

    Args:
        status (int): HTTP status (401, 413, 415, 422, 503, ...).
        code (str): Short machine-readable reason (``upload_too_large``, ...).
        message (str): What is wrong, for a person.
        headers (dict, optional): Extra response headers (``Retry-After``).
    """

    def __init__(self, status: int, code: str, message: str,
                 headers: Optional[Dict[str, str]] = None) -> None:
        super().__init__(message)
        self.status = int(status)
        self.code = code
        self.message = message
        self.headers = dict(headers or {})

    def to_json(self) -> dict:
        """The response body."""
        return dict(error=dict(status=self.status, code=self.code, message=self.message))
