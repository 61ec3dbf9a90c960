"""Every table, imported here so Alembic and `Base.metadata` see them all."""

from emprops.db.models.collections import (
    CollectionRecord,
    CollectionStatus,
    Component,
    ComponentFlatFile,
    FlatFile,
)
from emprops.db.models.credits import CreditBalance, CreditLedgerEntry
from emprops.db.models.generations import GenerationOutcome, GenerationStepResult
from emprops.db.models.jobs import JobHistory, JobRecord, OutboxMessage
from emprops.db.models.projects import Project, ProjectHistory
from emprops.db.models.users import ApiKey, RefreshToken, SiweNonce, User, Wallet
from emprops.db.models.workflows import WorkflowRecord

__all__ = [
    "ApiKey",
    "CollectionRecord",
    "CollectionStatus",
    "Component",
    "ComponentFlatFile",
    "CreditBalance",
    "CreditLedgerEntry",
    "FlatFile",
    "GenerationOutcome",
    "GenerationStepResult",
    "JobHistory",
    "JobRecord",
    "OutboxMessage",
    "Project",
    "ProjectHistory",
    "RefreshToken",
    "SiweNonce",
    "User",
    "Wallet",
    "WorkflowRecord",
]
