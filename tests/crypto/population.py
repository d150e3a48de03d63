"""Fill every EncryptedField of every model in crypto.REGISTRY, generically.

Used by the canary and backup tests so that fields other engineers add later
are covered without editing those tests: the demo seed gives most models
rows; a model without one gets a generated row (NOT NULL columns filled by
type, foreign keys pointing at an existing or generated row). A model whose
row cannot be generated makes the test fail with a message saying so.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select, types
from sqlalchemy.orm import Session

from clearance.crypto import REGISTRY, EncryptedField
from clearance.db import db, new_id, utcnow

#: Per-model row makers, for models the generic maker cannot build (check
#: constraints that need related values, etc.): tablename -> fn(session) -> obj.
ROW_MAKERS: dict[str, Any] = {}


def _stored_file(session: Session) -> Any:
    import io

    from clearance import files

    return files.save_upload(session, io.BytesIO(b"%PDF-1.7\n"), filename="canary.pdf", owner_table="t",
                             owner_id="canary")


ROW_MAKERS["stored_file"] = _stored_file


@dataclass(frozen=True)
class Sealed:
    model: type
    field: str
    row_id: str
    value: str | bytes


def canary(tag: str = "") -> str:
    """A unique marker whose length is a multiple of 3 (so its base64 is a prefix of the value's)."""
    marker = f"CANARY{tag}{new_id().replace('-', '')}"
    return marker + "Z" * (-len(marker) % 3)


def needles(marker: str) -> list[bytes]:
    """The byte strings to search for: UTF-8, its base64 and its hex."""
    raw = marker.encode()
    return [raw, base64.b64encode(raw), raw.hex().encode()]


def seed_demo(session: Session, config: Any, tmp: Path) -> None:
    from dialogue.demo.seed import seed

    seed(session, config, tmp / "demo-accounts.json", if_empty=True)


def _value_for(column: Any) -> Any:
    t = column.type
    if isinstance(t, types.Enum):
        return (t.enums or [None])[0] if not t.enum_class else next(iter(t.enum_class))
    if isinstance(t, types.Boolean):
        return False
    if isinstance(t, types.Integer | types.Numeric):
        return 0
    if isinstance(t, types.DateTime):
        return utcnow()
    if isinstance(t, types.Date):
        return date.today()
    if isinstance(t, types.LargeBinary):
        return b""
    if isinstance(t, types.JSON):
        return {}
    if isinstance(t, types.String):
        return "x"[: t.length or 1]
    return None


def _existing_id(session: Session, column: Any) -> Any:
    return session.execute(select(column).limit(1)).scalar()


def _enumerated_values(table: Any) -> dict[str, str]:
    """First allowed literal of columns restricted by a CHECK (col IN ('a', 'b'))."""
    out: dict[str, str] = {}
    for constraint in table.constraints:
        sqltext = str(getattr(constraint, "sqltext", ""))
        for column, values in re.findall(r"(\w+) IN \(([^)]*)\)", sqltext):
            literal = re.search(r"'([^']*)'", values)
            if literal and column not in out:
                out[column] = literal.group(1)
    return out


def _fk_value(session: Session, column: Any, depth: int) -> Any:
    target = next(iter(column.foreign_keys)).column
    value = _existing_id(session, target)
    if value is None:
        target_cls = _class_for_table(target.table.name)
        made = make_row(session, target_cls, depth + 1)
        value = getattr(made, inspect(target_cls).get_property_by_column(target).key)
    return value


def make_row(session: Session, cls: type, depth: int = 0) -> Any:
    """A minimal valid row of `cls` (flushed), or raise with a message that names the model.

    Required columns are filled by type. Check constraints such as "exactly one
    owner" are met by trying each optional foreign key in turn (in savepoints)."""
    if cls.__tablename__ in ROW_MAKERS:
        return ROW_MAKERS[cls.__tablename__](session)
    if depth > 6:
        raise RuntimeError(f"foreign keys too deep while generating a {cls.__name__}")
    mapper = inspect(cls)
    allowed = _enumerated_values(cls.__table__)
    base: dict[str, Any] = {}
    optional_fks = []
    for column in cls.__table__.columns:
        prop = mapper.get_property_by_column(column)
        if column.primary_key:
            if isinstance(column.type, types.String):
                base[prop.key] = new_id()
            continue
        if column.foreign_keys and column.nullable:
            optional_fks.append((prop.key, column))
            continue
        if column.nullable or column.default is not None or column.server_default is not None:
            continue
        if column.foreign_keys:
            base[prop.key] = _fk_value(session, column, depth)
        elif column.name in allowed:
            base[prop.key] = allowed[column.name]
        else:
            base[prop.key] = _value_for(column)
    variants: list[dict[str, Any]] = [{}]
    variants += [{key: column} for key, column in optional_fks]
    if len(optional_fks) > 1:
        variants.append(dict(optional_fks))
    last: Exception | None = None
    for extra in variants:
        kwargs = dict(base)
        for key, column in extra.items():
            kwargs[key] = _fk_value(session, column, depth)
        if "id" in kwargs:
            kwargs["id"] = new_id()
        try:
            with session.begin_nested():
                obj = cls(**kwargs)
                session.add(obj)
                session.flush()
            return obj
        except Exception as exc:  # try the next variant
            last = exc
    raise RuntimeError(str(last))


def _class_for_table(name: str) -> type:
    for mapper in db.Model.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == name:
            return mapper.class_
    raise RuntimeError(f"no model for table {name}")


def _try(session: Session, obj: Any, values: dict[str, Any]) -> bool:
    """Set attributes on obj and flush inside a savepoint; undo and return False if the database refuses."""
    before = {k: getattr(obj, k) for k in values if k in inspect(type(obj)).attrs}
    try:
        with session.begin_nested():
            for key, value in values.items():
                setattr(obj, key, value)
            session.flush()
        return True
    except Exception:  # a constraint: put the attributes back and try another way
        for key, value in before.items():
            set_committed = inspect(type(obj)).attrs[key]
            if set_committed is not None:
                try:
                    setattr(obj, key, value)
                except Exception:  # noqa: S110 - a refused value may not be restorable through the descriptor
                    pass
        return False


def _variants(cls: type) -> list[dict[str, Any]]:
    """No change, then each allowed value of each enumerated column (status = 'answered'…)."""
    mapper = inspect(cls)
    out: list[dict[str, Any]] = [{}]
    for constraint in cls.__table__.constraints:
        sqltext = str(getattr(constraint, "sqltext", ""))
        for column, values in re.findall(r"(\w+) IN \(([^)]*)\)", sqltext):
            if column in cls.__table__.columns:
                key = mapper.get_property_by_column(cls.__table__.columns[column]).key
                out += [{key: v} for v in re.findall(r"'([^']*)'", values)]
    return out


def fill_registry(session: Session, marker: str) -> list[Sealed]:
    """Put `marker` into every registered EncryptedField (one row per model where
    possible, another row or a generated one where a constraint refuses); commit."""
    sealed: list[Sealed] = []
    by_model: dict[type, list[tuple[str, EncryptedField]]] = {}
    tables = _tables(session)
    for (cls, name), f in REGISTRY.items():
        if inspect(cls, raiseerr=False) is None or getattr(cls, "__table__", None) is None:
            continue
        if cls.__table__.name not in tables:
            continue  # a test-only model of another suite
        by_model.setdefault(cls, []).append((name, f))
    missing: list[str] = []
    with session.no_autoflush:
        for cls, fields in by_model.items():
            rows = list(session.execute(select(cls).limit(20)).scalars())
            generated = False
            for name, f in fields:
                text = f"{marker} {cls.__tablename__}.{name} 機密"
                value: str | bytes = text.encode() if f.binary else text
                placed = None
                while placed is None:
                    placed = next(
                        (obj for obj in rows for extra in _variants(cls) if _try(session, obj, {**extra, name: value})),
                        None,
                    )
                    if placed is not None or generated:
                        break
                    generated = True  # existing rows would not take it: generate one and try again
                    try:
                        rows.append(make_row(session, cls))
                    except Exception as exc:  # reported below
                        missing.append(f"{cls.__name__} ({str(exc).splitlines()[0][:200]})")
                        break
                if placed is None:
                    missing.append(f"{cls.__name__}.{name}")
                else:
                    sealed.append(Sealed(cls, name, str(placed.id), value))
    if missing:
        session.rollback()
        raise AssertionError(
            f"cannot put a canary into {', '.join(missing)}: no suitable demo row and none could be generated. "
            "Seed one in the demo data or add a maker to tests/crypto/population.py ROW_MAKERS."
        )
    session.commit()
    return sealed


def _tables(session: Session) -> set[str]:
    bind = session.get_bind()
    return set(inspect(bind).get_table_names())


def read_back(session: Session, sealed: list[Sealed]) -> None:
    """Every sealed value decrypts to what was written."""
    for s in sealed:
        obj = session.get(s.model, s.row_id)
        assert obj is not None, f"{s.model.__name__} {s.row_id} missing"
        assert getattr(obj, s.field) == s.value, f"{s.model.__name__}.{s.field} does not read back"


def describe(sealed: list[Sealed]) -> str:
    return json.dumps(sorted(f"{s.model.__tablename__}.{s.field}" for s in sealed))




def raw_database(engine: Any) -> list[tuple[str, bytes]]:
    """What a thief of the database gets, as (where, bytes): on SQLite the file, its WAL and shared
    memory (after a checkpoint, so the search also covers the main file); on PostgreSQL a plain dump."""
    import shutil
    import subprocess

    from clearance import backup

    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        base = Path(engine.url.database)
        return [(p.name, p.read_bytes()) for p in (Path(str(base) + s) for s in ("", "-wal", "-shm", "-journal"))
                if p.exists()]
    args, env = backup._pg_args(engine)
    dump = subprocess.run([shutil.which("pg_dump") or "pg_dump", "--format=plain", "--no-password", *args],
                          env=env, capture_output=True, check=True).stdout
    return [("pg_dump", dump)]


def hits(engine: Any, markers: list[str]) -> list[str]:
    """Where any of the markers (UTF-8, base64 or hex) appears in the raw database."""
    found = []
    for where, data in raw_database(engine):
        for marker in markers:
            if any(n in data for n in needles(marker)):
                found.append(f"{marker[:24]}… in {where}")
    return found
