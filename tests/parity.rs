//! Parity suite against golden arrays from the original PyTorch EIANN (filled in by the core-model work).
