"""rules: see engine/README.md."""
