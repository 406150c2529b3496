"""flows: flow specs, their validation, node types as plugins and the durable runtime.

See README.md in this folder for the module map; ``p.flows`` is the entry point.
"""
