"""Operators' view of a running system: Prometheus metrics, health checks, job metrics.

Kept import-light: workers import `job_metrics` from here and must not pull in the API.
Tracing and log setup live in `emprops.core` (`tracing`, `logging`), which every part uses.
"""
