"""forms: see engine/README.md."""
