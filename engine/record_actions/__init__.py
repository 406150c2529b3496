"""Record actions: buttons an entity declares (``actions:`` in its YAML) that the engine runs.

The first action type is ``convert`` (see :mod:`engine.record_actions.convert`):
one record becomes records of other entities through a field map kept as data.
"""
