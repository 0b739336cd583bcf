//! Checkpoints: a network with its training history saved as a Python-readable pickle.
