//! MNIST data: IDX parsing, checksum verification and EIANN's train/validation/test splits.
