"""jobs: see engine/README.md."""
