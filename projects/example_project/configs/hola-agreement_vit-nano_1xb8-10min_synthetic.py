# The paper-faithful tiny HOLA config (from random weights) with its Local-Global Contextual
# Fusion swapped for the plugin's AgreementGatedFusion. Run from the repository root:
#   PYTHONPATH=projects/example_project python tools/train.py \
#       projects/example_project/configs/hola-agreement_vit-nano_1xb8-10min_synthetic.py
_base_ = ['../../../configs/hola/hola_vit-nano_scratch_1xb8-10min_synthetic.py']

custom_imports = dict(imports=['agreement_fusion_plugin'], allow_failed_imports=False)

model = dict(fusion=dict(_delete_=True, type='AgreementGatedFusion', dim={{_base_.hola_dim}}))
