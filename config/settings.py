"""Every setting of OneMap in one pydantic-settings class, read from the environment.

Environment names are ``ONEMAP_<FIELD>`` unless a field names its own (``DATABASE_URL``,
``ONEMAP_REGION``). The README's "Configuration" table lists each field with its environment
name and default; ``tests/test_settings.py`` keeps the two in step. To add a setting, add one
line here (a typed field with ``Field(default, description=...)``) and one row to that table.
"""
from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_REGION = "150623"


class Settings(BaseSettings):
    """Runtime settings: read from the environment when constructed (never at import)."""

    model_config = SettingsConfigDict(env_prefix="ONEMAP_", populate_by_name=True, frozen=True,
                                      env_ignore_empty=True, extra="ignore")

    dsn: str = Field("", validation_alias="DATABASE_URL",
                     description="a PostgreSQL with PostGIS 3 and pgRouting 3; empty: the local cluster")
    pg_port: int | None = Field(None, description="port of the local cluster (127.0.0.1 only)")
    app_dsn: str = Field("", validation_alias="ONEMAP_APP_DATABASE_URL",
                         description="the running server's own login (role onemap_app); empty: see README, Database")
    region_code: str = Field(DEFAULT_REGION, validation_alias="ONEMAP_REGION",
                             description="the county (6-digit adcode) the dashboard shows")
    secret_key: SecretStr | None = Field(None, description="signs session cookies")
    cookie_secure: bool | None = Field(None, description="Secure cookies; None: on except on localhost")
    escalate_every_s: float = Field(60.0, ge=0, description="the in-server escalation runner (0 = off)")
    rollup_fold_every_s: float = Field(1.0, ge=0, description="seconds between roll-up folds in the server (0 = off)")
    bulletin_every_s: float = Field(3600.0, ge=0, description="how often the server writes the bulletins of "
                                    "periods that have ended (0 = off)")
    log_level: str = Field("INFO", pattern=r"(?i)^(DEBUG|INFO|WARNING|ERROR)$", description="lowest level logged")
    tile_url: str | None = Field(None, description="an optional intranet base-tile URL template")
    tile_attribution: str = Field("", description="the attribution shown for tile_url")
    db_pool: int = Field(20, ge=1, description="database connections per process and database")
    api_rate: int = Field(600, ge=1, description="API requests per caller per minute")
    sse_heartbeat_s: float = Field(5.0, gt=0, description="seconds between an idle live stream's heartbeats")
    workers: int = Field(0, ge=0, description="onemap serve: worker processes (0: one per CPU)")
    worker_connections: int = Field(2000, ge=10, description="onemap serve: open connections per worker process")
    streams_per_session: int = Field(10, ge=1, description="open live pages per session or token (more get 429)")
    streams_per_address: int = Field(300, ge=1, description="open live pages per client address (more get 429)")
    trusted_proxies: int = Field(0, ge=0, le=5, description="reverse proxies in front of OneMap whose "
                                 "X-Forwarded-For/-Proto/-Host are believed (0: none)")
    public_url: str | None = Field(None, description="the base URL clients reach OneMap at; OGC, Open311 and "
                                                     "API links start with it (never with the Host header)")
    export_jobs_per_user: int = Field(2, ge=1, description="background exports running at once per user")
    export_jobs_global: int = Field(4, ge=1, description="background exports running at once, all processes")
    export_queue_per_user: int = Field(10, ge=1, description="exports one user may have waiting (more get 429)")
    export_ttl_hours: float = Field(24.0, gt=0, description="hours a finished export's file is kept")
    export_dir: str = Field("", description="where export files are kept (0700/0600); empty: var/exports")
    import_max_mb: float = Field(200.0, gt=0, description="largest file `grids import`/`roads import` read")
    import_max_features: int = Field(100_000, ge=1, description="most features in one grid import")
    registry_retention_days: int = Field(365, ge=0, description="days a person who moved away keeps their "
                                                                 "name and numbers (`onemap registry purge`)")
    import_max_vertices: int = Field(500_000, ge=4, description="most vertices in one imported geometry")

    @classmethod
    def from_env(cls) -> Settings:
        """The settings the environment gives now (``dsn`` stays empty without ``DATABASE_URL``)."""
        return cls()

    @classmethod
    def env_name(cls, field: str) -> str:
        """The environment variable that sets ``field``."""
        alias = cls.model_fields[field].validation_alias
        return alias if isinstance(alias, str) else f"ONEMAP_{field.upper()}"
