"""meta: see engine/README.md."""
