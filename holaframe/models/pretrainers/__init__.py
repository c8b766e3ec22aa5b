"""Self-supervised pre-trainers (AV-MAE)."""

__all__: list = []
