"""Every table, imported here so Alembic and `Base.metadata` see them all."""

from emprops.db.models.chain import (
    ChainPlatform,
    ChainSigner,
    ChainTransaction,
    CollectionDeployment,
    MintRequest,
)
from emprops.db.models.collections import (
    CollectionRecord,
    CollectionStage,
    CollectionStatus,
    Component,
    ComponentFlatFile,
    FlatFile,
)
from emprops.db.models.credits import CreditBalance, CreditLedgerEntry
from emprops.db.models.generations import GenerationOutcome, GenerationStepResult
from emprops.db.models.indexer import (
    IndexedCollection,
    IndexedMetadataUpdate,
    IndexedMint,
    IndexedToken,
    IndexedTransfer,
    IndexedUpgrade,
    IndexerBlock,
    IndexerCheckpoint,
    IndexerRawLog,
)
from emprops.db.models.jobs import JobHistory, JobRecord, OutboxMessage
from emprops.db.models.projects import Project, ProjectHistory
from emprops.db.models.publishing import OperationKind, OperationStatus, PublishOperation
from emprops.db.models.users import ApiKey, RefreshToken, SiweNonce, User, Wallet
from emprops.db.models.workflows import ComponentVersion, WorkflowRecord

__all__ = [
    "ApiKey",
    "ChainPlatform",
    "ChainSigner",
    "ChainTransaction",
    "CollectionDeployment",
    "CollectionRecord",
    "CollectionStage",
    "CollectionStatus",
    "Component",
    "ComponentFlatFile",
    "ComponentVersion",
    "CreditBalance",
    "CreditLedgerEntry",
    "FlatFile",
    "GenerationOutcome",
    "GenerationStepResult",
    "IndexedCollection",
    "IndexedMetadataUpdate",
    "IndexedMint",
    "IndexedToken",
    "IndexedTransfer",
    "IndexedUpgrade",
    "IndexerBlock",
    "IndexerCheckpoint",
    "IndexerRawLog",
    "JobHistory",
    "JobRecord",
    "MintRequest",
    "OperationKind",
    "OperationStatus",
    "OutboxMessage",
    "Project",
    "ProjectHistory",
    "PublishOperation",
    "RefreshToken",
    "SiweNonce",
    "User",
    "Wallet",
    "WorkflowRecord",
]
