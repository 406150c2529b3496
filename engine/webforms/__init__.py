"""Public web forms: definitions (``definition``) and submissions (``service``)."""
