"""reports: see engine/README.md."""
