"""Limits and options of the scoring service (``tools/serve.py`` flags)."""

from dataclasses import dataclass
from typing import Optional

__all__ = ['ServiceSettings']


@dataclass
class ServiceSettings:
    """What the service accepts and how it schedules work.

    Args:
        max_upload_mb: Largest upload in MiB (413 beyond; counted while streaming, and refused
            early from ``Content-Length``).
        max_duration_s: Longest video in seconds (422 beyond).
        max_side: Longest frame side in pixels (422 beyond).
        workers: Videos scored at once (threads sharing the one loaded model).
        queue_size: Requests that may wait for a worker; more get 503 with ``Retry-After``.
        retry_after_s: ``Retry-After`` of a 503, in seconds.
        api_key: When set, every ``/v1`` request needs ``X-API-Key`` (or ``Authorization:
            Bearer``) equal to it (401 otherwise; compared in constant time).
        tmp_dir: Folder of the uploads while they are scored (default: the system's).
    """

    max_upload_mb: float = 200.0
    max_duration_s: float = 300.0
    max_side: int = 1920
    workers: int = 1
    queue_size: int = 4
    retry_after_s: int = 5
    api_key: Optional[str] = None
    tmp_dir: Optional[str] = None

    def __post_init__(self) -> None:
        if self.max_upload_mb <= 0 or self.max_duration_s <= 0 or self.max_side <= 0:
            raise ValueError('settings.py: max_upload_mb, max_duration_s and max_side must be '
                             f'> 0, got {self.max_upload_mb}, {self.max_duration_s}, '
                             f'{self.max_side}')
        if self.workers < 1 or self.queue_size < 0:
            raise ValueError(f'settings.py: workers must be >= 1 and queue_size >= 0, got '
                             f'{self.workers} and {self.queue_size}')

    @property
    def max_upload_bytes(self) -> int:
        """``max_upload_mb`` in bytes."""
        return int(self.max_upload_mb * 1024 * 1024)

    def public(self) -> dict:
        """The limits as shown by ``/healthz`` (the API key is never shown)."""
        return dict(max_upload_mb=self.max_upload_mb, max_duration_s=self.max_duration_s,
                    max_side=self.max_side, workers=self.workers, queue_size=self.queue_size,
                    api_key_required=self.api_key is not None)
