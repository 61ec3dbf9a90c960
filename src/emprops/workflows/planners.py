"""Step planners: work done once per run, across all generations, before their jobs are queued.

The layered-trait renderer needs this (exact rarity and uniqueness are properties of the whole
collection, not of one token); planners are pure functions of the step and the run's hashes.
"""

from __future__ import annotations

from emprops.workflows.engine import StepPlanner

STEP_PLANNERS: dict[str, StepPlanner] = {}
