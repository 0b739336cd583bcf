set shell := ["bash", "-uc"]

# Install the notebook toolchain: evcxr_jupyter, .venv with JupyterLab, the `rust` kernel.
setup:
    bash notebooks/setup.sh

# Start JupyterLab (from .venv) on notebooks/; kernels start in the notebook's folder and read notebooks/evcxr.toml.
lab:
    .venv/bin/jupyter lab --notebook-dir=notebooks
