"""Benchmarks of training and offline evaluation: train time, quality protocols, the lake."""
