"""flows: see engine/README.md."""
