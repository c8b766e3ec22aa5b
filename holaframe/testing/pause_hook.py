"""A hook that stops a training process at a chosen iteration, so that a test can kill it there.

Imported by name through ``custom_imports`` (importing it registers the hook). With the
environment variable ``HOLAFRAME_PAUSE_AT_ITER=N`` set, rank 0 writes the file named by
``HOLAFRAME_PAUSE_MARKER`` after training iteration ``N`` (and after any checkpoint of that
iteration) and then sleeps, waiting for the test's ``SIGKILL``. Without the variable the hook does
nothing, so the same config runs uninterrupted, killed and resumed.
"""

import os
import time

from mmengine.dist import get_rank
from mmengine.hooks import Hook

from holaframe.registry import HOOKS


@HOOKS.register_module()
class PauseAtIterHook(Hook):
    """Pause rank 0 after iteration ``$HOLAFRAME_PAUSE_AT_ITER`` (see module doc)."""

    priority = 'LOWEST'  # after CheckpointHook

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        """Write the marker and sleep when the iteration is reached."""
        at = os.environ.get('HOLAFRAME_PAUSE_AT_ITER')
        if not at or runner.iter + 1 != int(at) or get_rank() != 0:
            return
        marker = os.environ['HOLAFRAME_PAUSE_MARKER']
        with open(marker, 'w') as f:
            f.write(f'{runner.epoch} {runner.iter + 1}\n')
        time.sleep(float(os.environ.get('HOLAFRAME_PAUSE_SECONDS', '600')))
