"""store: see engine/README.md."""
