"""The operator's view of the job queue (bull-board's job): counts, workers, jobs by state, one
job with its events, cancel and retry. Administrators only."""

from emprops.queue_admin.service import QueueAdminService

__all__ = ["QueueAdminService"]
