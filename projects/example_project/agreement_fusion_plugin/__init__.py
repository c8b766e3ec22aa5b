"""An example third-party holaframe plugin: one fusion block registered into holaframe."""

from .agreement_gated_fusion import AgreementGatedFusion

__all__ = ['AgreementGatedFusion']
