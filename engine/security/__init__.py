"""security: see engine/README.md."""
