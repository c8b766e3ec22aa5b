"""MMEngine's ``FlexibleRunner`` with the checkpoint position of the plain ``Runner``."""

import os.path as osp
from typing import Optional

from mmengine.fileio import FileClient, join_path
from mmengine.runner import FlexibleRunner


class HolaFlexibleRunner(FlexibleRunner):
    """``FlexibleRunner`` (DeepSpeed / FSDP strategies) whose checkpoints record where they were
    taken.

    MMEngine 0.10.7's ``FlexibleRunner.save_checkpoint`` overwrites the ``epoch``/``iter`` that
    ``CheckpointHook`` passes in ``meta``. When ``CheckpointHook(save_best=...)`` re-saves the
    last checkpoint after validation (the epoch counter has advanced by then), ``epoch_1.pth``
    claimed epoch 2, and ``--resume`` skipped a whole epoch. Here, as in ``Runner``, the
    caller's ``meta`` wins and only missing values are filled in.
    :func:`holaframe.engine.runner.build_runner` uses this class for
    ``runner_type='FlexibleRunner'``.
    """

    def save_checkpoint(self,
                        out_dir: str,
                        filename: str,
                        file_client_args: Optional[dict] = None,
                        save_optimizer: bool = True,
                        save_param_scheduler: bool = True,
                        meta: Optional[dict] = None,
                        by_epoch: bool = True,
                        backend_args: Optional[dict] = None):
        """Save a checkpoint through the strategy (see ``FlexibleRunner.save_checkpoint``).

        Args:
            out_dir (str): Folder of the checkpoint.
            filename (str): Checkpoint name.
            file_client_args (dict, optional): Deprecated MMEngine file client arguments.
            save_optimizer (bool): Save the optimizer state. Defaults to True.
            save_param_scheduler (bool): Save the parameter schedulers. Defaults to True.
            meta (dict, optional): Metadata; its ``epoch`` and ``iter`` are kept.
            by_epoch (bool): Default position of an epoch-based save (``epoch + 1``).
            backend_args (dict, optional): File backend arguments.
        """
        if meta is None:
            meta = {}
        elif not isinstance(meta, dict):
            raise TypeError(f'meta should be a dict or None, but got {type(meta)}')
        meta = dict(meta)
        if by_epoch:
            meta.setdefault('epoch', self.epoch + 1)
            meta.setdefault('iter', self.iter)
        else:
            meta.setdefault('epoch', self.epoch)
            meta.setdefault('iter', self.iter + 1)

        if file_client_args is not None:
            if backend_args is not None:
                raise ValueError('"file_client_args" and "backend_args" cannot be set at the '
                                 'same time.')
            file_client = FileClient.infer_client(file_client_args, out_dir)
            filepath = file_client.join_path(out_dir, filename)
        else:
            filepath = join_path(out_dir, filename, backend_args=backend_args)

        meta.update(cfg=self.cfg.pretty_text, experiment_name=self.experiment_name)
        if hasattr(self.train_dataloader.dataset, 'metainfo'):
            meta.update(dataset_meta=self.train_dataloader.dataset.metainfo)

        checkpoint = {'meta': meta, 'message_hub': self.message_hub.state_dict()}

        def callback(checkpoint):
            self.call_hook('before_save_checkpoint', checkpoint=checkpoint)

        self.strategy.save_checkpoint(
            filename=osp.normpath(filepath) if '://' not in filepath else filepath,
            save_optimizer=save_optimizer,
            save_param_scheduler=save_param_scheduler,
            extra_ckpt=checkpoint,
            callback=callback,
        )
