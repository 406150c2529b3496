"""The built-in node types, one module each; ``base.py`` is the contract they and plugins share."""
