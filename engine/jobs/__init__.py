"""The job runner (``p.jobs``, ``tessera worker``): timers, schedules, follow-ups, deliveries."""

from engine.jobs.runner import JobRunner, Tick

__all__ = ["JobRunner", "Tick"]
