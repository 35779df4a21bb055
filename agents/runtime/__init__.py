"""The worker's runtime around Faust: one transaction per batch over RocksDB tables and their
changelogs (`transaction`, `stores`, `changelog`), batching and partition routing, decoded-state
caches, metrics, and, at the bottom, the only module touching private internals (`patches`)."""
