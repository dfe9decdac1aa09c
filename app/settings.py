"""Service settings, read from the environment (and an optional ``.env`` file)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from fastapi import Depends
from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Every setting is documented in README.md ("Settings")."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_prefix="CLOUDMAP_")

    environment: Literal["development", "production"] = "development"
    # DATABASE_URL wins; when absent the private cluster under var/pg is used.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "CLOUDMAP_DATABASE_URL")
    )
    pg_port: int = 54329
    host: str = "127.0.0.1"
    port: int = 8000
    basemap_url: str = ""
    basemap_attribution: str = ""
    tianditu_key: str = ""  # 天地图 key: offers vec_w / img_w basemaps on the map
    page_default_limit: int = Field(default=1000, ge=1)
    page_max_limit: int = Field(default=5000, ge=1)
    frontend_dir: Path = PROJECT_ROOT / "frontend"
    data_dir: Path = PROJECT_ROOT / "data"
    secret_key: str = "change-me"
    # OGC API (app/ogc): see README "Settings" and docs/ogc.md.
    ogc_allow_anonymous: bool | None = None  # None: on in development, off in production
    ogc_default_rate_limit_per_minute: int = Field(default=600, ge=1)
    ogc_tile_cache_mb: int = Field(default=256, ge=0)  # 0: no tile cache
    ogc_tile_max_age_s: int = Field(default=60, ge=0)
    # Uploads (app/ingest): see README "Settings" and docs/upload.md.
    upload_max_mb: int = Field(default=200, ge=1)
    upload_max_unpacked_mb: int = Field(default=1024, ge=1)
    upload_max_ratio: float = Field(default=200, gt=1)
    upload_max_members: int = Field(default=10_000, ge=1)
    upload_tmp_dir: Path | None = None  # None: the system temporary directory
    # 月报 evidence files (app/progress/reporting): PDF, JPEG or PNG up to this size each.
    evidence_max_mb: float = Field(default=10, gt=0)
    # Login and sessions (app/auth): see README "Settings".
    session_hours: float = Field(default=12, gt=0)
    session_cookie_secure: bool | None = None  # None: Secure only when environment == "production"
    login_max_failures: int = Field(default=5, ge=1)
    # Review (app.core.review): the drafter or submitter of a version may approve or return it
    # themselves only when this is on (a single-person demo); never in production.
    review_allow_self_approval: bool = False
    # 投资履约: a project whose actual figure is below this share of the promised one is a defaulter.
    credit_default_ratio: float = Field(default=0.8, gt=0, le=1)

    # Issue 18 part 3 (app/core/ratelimit.py, docs/ogc.md "Rate limits"): one shared limiter, the login
    # back-off, the Host check and the public URL the links are built on.
    redis_url: str = ""  # redis://…: the limiter's counters in Redis; empty: in PostgreSQL (rate_limit_counters)
    ratelimit_storage: str = ""  # a limits storage URI that wins over both (memory:// in tests that say so)
    ogc_anonymous_rate_per_minute: int = Field(default=600, ge=1)  # per client address, /ogc and /ows
    trusted_proxies: Annotated[list[str], NoDecode] = []  # addresses/CIDRs whose X-Forwarded-For is believed
    login_rate_per_minute: int = Field(default=30, ge=1)  # failed logins per client address a minute, any name
    login_backoff_max_minutes: float = Field(default=60, gt=0)  # the longest wait of the back-off
    allowed_hosts: Annotated[list[str] | None, NoDecode] = None  # None: development's loopback names and *
    public_url: str = ""  # e.g. https://yuntu.tongxiang.gov.cn: links use it instead of the request's Host
    # Issue 18 part 2 (limits and timeouts, docs/architecture.md "Limits and timeouts"): a slow or hung
    # database answers 503 database_unavailable within seconds; request bodies are capped while streaming.
    db_connect_timeout_s: int = Field(default=3, ge=1)  # libpq connect_timeout (whole seconds)
    db_statement_timeout_ms: int = Field(default=10_000, ge=100)  # per statement, every connection
    db_lock_timeout_ms: int = Field(default=3_000, ge=100)  # waiting for a row or table lock
    db_pool_timeout_s: float = Field(default=5, gt=0)  # waiting for a free connection of a pool
    max_json_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)  # any non-upload request body
    analysis_max_body_bytes: int = Field(default=20 * 1024 * 1024, ge=1024)  # POST /api/analysis

    # Issue 18 part 4 (scale-out, docs/deployment.md): a read-only streaming replica for the read path,
    # read-your-writes, and the reaper of abandoned uploads.
    database_replica_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_REPLICA_URL", "CLOUDMAP_DATABASE_REPLICA_URL")
    )
    read_your_writes_s: int = Field(default=300, ge=1)  # how long a writer's reads check the replica's replay
    upload_stale_staging_minutes: float = Field(default=30, gt=0)  # staging with no progress this long: failed
    upload_abandoned_staged_hours: float = Field(default=168, gt=0)  # staged, never committed: failed
    upload_reap_interval_minutes: float = Field(default=15, ge=0)  # 0: only at start-up

    @field_validator("database_url", "database_replica_url")
    @classmethod
    def _psycopg_driver(cls, value: str | None) -> str | None:
        """Accept the usual spellings and always use the psycopg 3 driver."""
        if not value:
            return None
        for prefix in ("postgresql+psycopg2://", "postgresql+psycopg://", "postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix):]
        raise ValueError("DATABASE_URL must be a postgresql:// URL")

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> Settings:
        if self.environment != "development" and self.secret_key == "change-me":
            raise ValueError("CLOUDMAP_SECRET_KEY must be set to a real secret outside development")
        if self.environment == "production" and self.review_allow_self_approval:
            raise ValueError("CLOUDMAP_REVIEW_ALLOW_SELF_APPROVAL is for a single-person demo, never production")
        if self.page_default_limit > self.page_max_limit:
            raise ValueError("CLOUDMAP_PAGE_DEFAULT_LIMIT must not exceed CLOUDMAP_PAGE_MAX_LIMIT")
        self._ratelimit_and_hosts()
        return self

    @field_validator("trusted_proxies", "allowed_hosts", mode="before")
    @classmethod
    def _comma_list(cls, value):
        """``a, b`` or a JSON list from the environment."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [v.strip() for v in text.split(",") if v.strip()]
        return value

    def _ratelimit_and_hosts(self) -> None:
        """Issue 18 part 3's defaults: anonymous OGC and any Host only in development."""
        if self.ogc_allow_anonymous is None:
            self.ogc_allow_anonymous = self.environment == "development"
        self.public_url = self.public_url.rstrip("/")
        if self.public_url and not self.public_url.startswith(("http://", "https://")):
            raise ValueError("CLOUDMAP_PUBLIC_URL must start with http:// or https://")
        if self.allowed_hosts is None:
            if self.environment == "development":
                self.allowed_hosts = ["127.0.0.1", "localhost", "testserver", "*"]
            elif self.public_url:
                self.allowed_hosts = [urlsplit(self.public_url).hostname or "", "127.0.0.1", "localhost"]
            else:
                raise ValueError("CLOUDMAP_ALLOWED_HOSTS (or CLOUDMAP_PUBLIC_URL) must be set in production")

    @property
    def cookie_secure(self) -> bool:
        if self.session_cookie_secure is None:
            return self.environment == "production"
        return self.session_cookie_secure

    @property
    def uses_private_cluster(self) -> bool:
        return self.database_url is None

    def resolved_database_url(self) -> str:
        """DATABASE_URL, or the private cluster's URL (which does not start it)."""
        if self.database_url:
            return self.database_url
        return f"postgresql+psycopg://cloudmap@127.0.0.1:{self.pg_port}/cloudmap"


@lru_cache
def get_settings() -> Settings:
    return Settings()


SettingsDep = Annotated[Settings, Depends(get_settings)]
