"""The engine's own tables: metadata versions, physical names, audit, counters.

Entity tables are generated from definitions (see ``schema.py``); these are
fixed and created when a platform first opens a database.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from engine.store.types import IdType, UTCDateTime

system_metadata = MetaData()

bundles = Table(
    "ts_bundle",
    system_metadata,
    Column("name", String(64), primary_key=True),
    Column("version", String(32), nullable=False),
    Column("manifest", Text, nullable=False),
    Column("installed_on", UTCDateTime, nullable=False),
    Column("installed_by", String(64)),
)

# One row per definition (kind, name): where it came from and which version is live.
meta_items = Table(
    "ts_meta_item",
    system_metadata,
    Column("kind", String(32), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("bundle", String(64)),
    Column("current_version", Integer, nullable=False),
    # The version number that holds the definition as the bundle last shipped it.
    Column("base_version", Integer),
    # True when the live definition differs from the shipped one (a browser edit).
    Column("overlay", Boolean, nullable=False, default=False),
    Column("deleted", Boolean, nullable=False, default=False),
)

# Every definition ever saved: immutable rows.
meta_versions = Table(
    "ts_meta_version",
    system_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("name", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("origin", String(16), nullable=False),  # bundle | edit | merge
    Column("bundle_version", String(32)),
    Column("definition", Text, nullable=False),  # canonical JSON
    Column("hash", String(64), nullable=False),
    Column("created_on", UTCDateTime, nullable=False),
    Column("created_by", String(64)),
    Column("note", Text),
    UniqueConstraint("kind", "name", "version", name="uq_meta_version"),
)

# Physical names, fixed when a field is created; renames never touch them.
physical_fields = Table(
    "ts_field",
    system_metadata,
    Column("entity", String(64), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("column_name", String(63), nullable=False),
    Column("table_name", String(63), nullable=False),
    Column("removed", Boolean, nullable=False, default=False),
)

audit_log = Table(
    "ts_audit",
    system_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64)),
    Column("entity", String(64), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("action", String(16), nullable=False),  # create | create_batch | update | delete
    Column("version", Integer),
    # JSON {"before": {...}, "after": {...}}; a create_batch row (several creations,
    # record_id the first's) holds "after" as a list with the matching "ids" list
    Column("changes", Text, nullable=False),
    Index("ix_audit_record", "entity", "record_id"),
)

# Id blocks for dialects without sequences, and autonumber counters.
counters = Table(
    "ts_counter",
    system_metadata,
    Column("name", String(200), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

# Side effects leave through the outbox, written in the same transaction as the
# change that caused them and delivered later by a worker (at least once; the
# ``key`` column lets a producer make an effect idempotent).
outbox = Table(
    "ts_outbox",
    system_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),  # notify | webhook | task | flow | ...
    Column("payload", Text, nullable=False),  # JSON
    Column("key", String(200), unique=True),  # optional idempotency key
    Column("created_on", UTCDateTime, nullable=False),
    Column("due_on", UTCDateTime, nullable=False),
    Column("delivered_on", UTCDateTime),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Index("ix_outbox_due", "delivered_on", "due_on"),
)

# "At most once per period": a periodic job (a schedule, an SLA check) claims a
# record for a period by inserting a row here; the primary key makes a second
# claim of the same (job, record, period) impossible, even from two workers.
period_marks = Table(
    "ts_period_mark",
    system_metadata,
    Column("job", String(200), primary_key=True),
    Column("record_id", BigInteger, primary_key=True),
    Column("period", BigInteger, primary_key=True),
    Column("claimed_on", UTCDateTime, nullable=False),
)

# Teams for assignment: a minimal store the security layer will extend (labels,
# managers, row scopes). ``rr_turn`` is the round-robin cursor: it is advanced
# with one atomic UPDATE in the routing transaction, so two records routed at
# once never get the same turn.
teams = Table(
    "ts_team",
    system_metadata,
    Column("name", String(64), primary_key=True),
    Column("label", Text),
    Column("rr_turn", BigInteger, nullable=False, default=0),
)

team_members = Table(
    "ts_team_member",
    system_metadata,
    Column("team", String(64), primary_key=True),
    Column("username", String(64), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
    Column("active", Boolean, nullable=False, default=True),
)

# Comments on records (the record page's timeline): plain text, by a user, never edited.
comments = Table(
    "ts_comment",
    system_metadata,
    Column("id", IdType, primary_key=True, autoincrement=True),
    Column("entity", String(64), nullable=False),
    Column("record_id", BigInteger, nullable=False),
    Column("author", String(64)),
    Column("at", UTCDateTime, nullable=False),
    Column("body", Text, nullable=False),
    Index("ix_comment_record", "entity", "record_id"),
)

# Which version of which rule set last scored, graded or routed a record
# (RULES_DSL.md section 3, "records remember which version scored or routed
# them"). A side table rather than a system column: no entity table changes,
# and one record is touched by several rule sets, each with its own version.
rule_stamps = Table(
    "ts_rule_stamp",
    system_metadata,
    Column("entity", String(64), primary_key=True),
    Column("record_id", BigInteger, primary_key=True),
    Column("ruleset", String(128), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("rule", Text),  # the label of the rule that acted (routing), if any
    Column("stamped_on", UTCDateTime, nullable=False),
)
