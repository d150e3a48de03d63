"""Attacks on the audit log with database write access (triggers dropped first), each detected at the
first bad position; checkpoints, publication, inclusion proofs, key rotation, the no-lock append."""

from __future__ import annotations

import json

from sqlalchemy import text

from clearance import audit, crypto
from clearance.audit import Kind
from clearance.audit_proof import check_proof, checkpoint_message, content_digest
from clearance.db import db
from tests.test_audit import _checkpoint, _raw, _verify, _write


def _published(app) -> list[dict]:
    with app.app_context():
        return audit.published_records(audit.publish_dir(app.config) / audit.PUBLISHED_FILE)


def _two_checkpoints(app) -> None:
    """Entries 1-10 in checkpoint 1, 11-30 in checkpoint 2, both published."""
    _write(app, 10)
    assert _checkpoint(app) == 1
    _write(app, 20)
    assert _checkpoint(app) == 2


def _mac(app, **fields) -> str:
    with app.app_context():
        key = crypto.audit_keys.mac_key(fields["key_ref"])
        return crypto.keyed_hash(key, content_digest(**fields)).hex()


def _row(app, seq: int) -> dict:
    with app.app_context():
        e = db.session.get(audit.AuditEntry, seq)
        return {c: getattr(e, c) for c in ("seq", "occurred_at", "actor_id", "actor", "realm", "kind", "summary",
                                           "data", "key_ref")}


def test_intact_with_checkpoints_and_published_file(app):
    _two_checkpoints(app)
    _write(app, 3)
    assert _verify(app) is None
    lines = _published(app)
    assert [r["checkpoint"]["id"] for r in lines] == [1, 2]
    assert lines[1]["checkpoint"]["prev"] != "0" * 64 and lines[1]["checkpoint"]["total"] == 30


def test_edit_and_recompute_without_the_key(app):
    """A denial turned into "Signed in", its digest recomputed the only way possible without the key."""
    _two_checkpoints(app)
    fields = _row(app, 15) | {"summary": "Signed in", "kind": "positive"}
    fake = content_digest(**fields).hex()
    _raw(app, f"UPDATE audit_entry SET summary = 'Signed in', kind = 'positive', mac = '{fake}' WHERE seq = 15")
    broken = _verify(app)
    assert broken.seq == 15 and broken.checkpoint is None and "MAC" in broken.reason


def test_edit_with_stolen_mac_key_is_caught_by_the_signed_root(app):
    _two_checkpoints(app)
    fields = _row(app, 15) | {"summary": "Signed in"}
    _raw(app, f"UPDATE audit_entry SET summary = 'Signed in', mac = '{_mac(app, **fields)}' WHERE seq = 15")
    broken = _verify(app)
    assert broken.checkpoint == 2 and broken.seq == 11 and "root" in broken.reason


def test_delete_newest_and_move_the_head(app):
    """The 20 newest entries and the checkpoint that sealed them go: the published head contradicts it."""
    _two_checkpoints(app)
    _raw(app, "DELETE FROM audit_entry WHERE seq > 10", "DELETE FROM audit_checkpoint WHERE id = 2",
         "UPDATE audit_head SET seq = 10")
    broken = _verify(app)
    assert broken.checkpoint == 2 and broken.seq == 11 and "rolled back" in broken.reason


def test_delete_newest_unpublished_is_caught_by_the_checkpoint(app):
    _two_checkpoints(app)
    _raw(app, "DELETE FROM audit_entry WHERE seq > 25")
    broken = _verify(app)
    assert broken.seq == 26 and "missing" in broken.reason


def test_delete_oldest(app):
    _two_checkpoints(app)
    _raw(app, "DELETE FROM audit_entry WHERE seq = 1")
    broken = _verify(app)
    assert broken.seq == 1 and "missing" in broken.reason


def test_insert_between_checkpointed_entries(app):
    _two_checkpoints(app)
    fields = _row(app, 12) | {"summary": "forged"}
    _raw(app, "UPDATE audit_entry SET seq = seq + 1000 WHERE seq > 12",
         "UPDATE audit_entry SET seq = seq - 999 WHERE seq > 1000")
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(audit.AuditEntry.__table__.insert().values(**(fields | {"seq": 13}), mac="ab" * 32))
    broken = _verify(app)
    assert broken.seq == 13 and "MAC" in broken.reason


def test_insert_with_stolen_mac_key_into_a_gap(app):
    """Even a valid MAC does not get an entry into a sealed range."""
    _two_checkpoints(app)
    _raw(app, "DELETE FROM audit_entry WHERE seq = 30")
    fields = _row(app, 29) | {"seq": 30, "summary": "forged"}
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(audit.AuditEntry.__table__.insert().values(**fields, mac=_mac(app, **fields)))
    broken = _verify(app)
    assert broken.checkpoint == 2 and "root" in broken.reason


def test_reorder(app):
    _two_checkpoints(app)
    _raw(app, "UPDATE audit_entry SET seq = -1 WHERE seq = 4", "UPDATE audit_entry SET seq = 4 WHERE seq = 5",
         "UPDATE audit_entry SET seq = 5 WHERE seq = -1")
    broken = _verify(app)
    assert broken.seq == 4 and "MAC" in broken.reason


def test_replace_a_whole_checkpoint(app):
    """Checkpoint 1 re-made over edited entries and signed with the attacker's own key."""
    _two_checkpoints(app)
    with app.app_context():
        cp = db.session.get(audit.AuditCheckpoint, 1)
        body = cp.body() | {"root": "11" * 32}
        own = b"\x07" * 32
        sig = crypto.sign(own, checkpoint_message(body)).hex()
    _raw(app, f"UPDATE audit_checkpoint SET root = '{'11' * 32}', signature = '{sig}' WHERE id = 1")
    broken = _verify(app)
    assert broken.checkpoint == 1 and broken.seq == 1 and "signature" in broken.reason


def test_restore_an_older_backup(app):
    """The database as it was after checkpoint 1, under a published checkpoint 2."""
    _two_checkpoints(app)
    _raw(app, "DELETE FROM audit_entry WHERE seq > 10", "DELETE FROM audit_checkpoint WHERE id > 1",
         "UPDATE audit_head SET seq = 10")  # the backup's own counter (SQLite; PostgreSQL's sequence only moves on)
    broken = _verify(app)
    assert broken.checkpoint == 2 and broken.seq == 11 and "rolled back" in broken.reason
    # Without the published file the database alone looks consistent: that is what publication is for.
    with app.app_context():
        assert audit.verify(db.session, None) is None


def test_rollback_with_all_keys_stolen_before_the_published_checkpoint(app):
    """Rolled back to checkpoint 1, new entries with valid MACs and a checkpoint 2 validly signed with the
    stolen key: only the published file can tell, and it does, at checkpoint 2."""
    _two_checkpoints(app)
    _raw(app, "DELETE FROM audit_entry WHERE seq > 10", "DELETE FROM audit_checkpoint WHERE id > 1")
    _write(app, 20)  # the app's own keys: exactly what a thief of them could write
    with app.app_context():
        db.session.execute(text("SELECT 1"))
    _raw(app)  # triggers stay dropped: the thief re-signs with the stolen key
    with app.app_context():
        forged = audit.make_checkpoint(db.session)
        db.session.commit()
        assert forged.id == 2
    broken = _verify(app)
    assert broken.checkpoint == 2 and broken.seq == 11 and "published" in broken.reason


def test_a_forged_published_file_is_refused(app):
    _two_checkpoints(app)
    path = None
    with app.app_context():
        path = audit.publish_dir(app.config) / audit.PUBLISHED_FILE
    lines = path.read_text().splitlines()
    rec = json.loads(lines[1])
    rec["checkpoint"]["total"] = 5
    path.write_text(lines[0] + "\n" + json.dumps(rec) + "\n")
    broken = _verify(app)
    assert broken.checkpoint == 2 and "published" in broken.reason


def test_checkpoint_refuses_to_seal_a_forged_entry(app):
    _write(app, 3)
    _raw(app, "UPDATE audit_entry SET summary = 'x' WHERE seq = 2")
    result = app.test_cli_runner().invoke(args=["audit-checkpoint"])
    assert result.exit_code != 0 and "entry 2" in result.output


def test_checkpoint_only_when_due(app):
    runner = app.test_cli_runner()
    _write(app, 2)
    assert "checkpoint 1" in runner.invoke(args=["audit-checkpoint", "--if-due"]).output
    assert "no checkpoint due" in runner.invoke(args=["audit-checkpoint", "--if-due"]).output
    _write(app, 1)
    assert "checkpoint 2: 1 entries" in runner.invoke(args=["audit-checkpoint", "--if-due"]).output
    assert [r["checkpoint"]["size"] for r in _published(app)] == [2, 1]


def test_inclusion_proof_round_trip(app, tmp_path):
    _two_checkpoints(app)
    runner = app.test_cli_runner()
    out = runner.invoke(args=["audit-prove", "17"])
    assert out.exit_code == 0, out.output
    proof = json.loads(out.output)
    assert proof["leaf_index"] == 6 and proof["tree_size"] == 20 and proof["entry"]["summary"] == "event 6"
    assert check_proof(proof, _published(app)) == []
    f = tmp_path / "proof.json"
    f.write_text(out.output)
    assert runner.invoke(args=["audit-check-proof", str(f)]).exit_code == 0
    proof["entry"]["summary"] = "event 99"
    proof["entry"]["digest"] = content_digest(**{k: proof["entry"][k] for k in (
        "seq", "occurred_at", "actor_id", "actor", "realm", "kind", "summary", "data")},
        key_ref=proof["entry"]["key"]).hex()
    assert "the audit path does not lead to the checkpoint's root" in check_proof(proof, _published(app))
    f.write_text(json.dumps(proof))
    assert runner.invoke(args=["audit-check-proof", str(f)]).exit_code == 1
    assert "not in a checkpoint" in runner.invoke(args=["audit-prove", "9999"]).output or \
        "no audit entry" in runner.invoke(args=["audit-prove", "9999"]).output


def test_rotation_and_retirement_keep_old_entries_verifiable(app_factory, keydir, tmp_path):
    import shutil

    keys = tmp_path / "own-keys.json"  # a private copy: the database's key check names the session's key
    shutil.copy(keydir / "keys.json", keys)
    keys.chmod(0o600)
    app = app_factory(TAIWA_KEY_FILE=str(keys))
    _write(app, 3)
    _checkpoint(app)
    with app.app_context():
        provider = crypto.get_provider()
        provider.add_version()
    _write(app, 2)
    _checkpoint(app)
    with app.app_context():
        refs = db.session.execute(db.select(audit.AuditEntry.key_ref).order_by(audit.AuditEntry.seq)).scalars().all()
        assert refs == ["main:1"] * 3 + ["main:2"] * 2
        provider.retire("main", 1)
    assert _verify(app) is None


def test_appending_takes_no_row_lock(app):
    """Two open transactions append at once (PostgreSQL: neither waits; SQLite serialises writers anyway)."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            return
        c1, c2 = db.engine.connect(), db.engine.connect()
        try:
            from sqlalchemy.orm import Session

            s1, s2 = Session(bind=c1), Session(bind=c2)
            s2.execute(text("SET lock_timeout = '1s'"))
            audit.append(s1, realm="test", kind=Kind.INFO, summary="one")
            audit.append(s2, realm="test", kind=Kind.INFO, summary="two")  # would time out behind a head row
            s2.commit()
            s1.commit()
        finally:
            c1.close()
            c2.close()
    assert _verify(app) is None


def test_daily_mail_line_names_the_latest_signed_head(app):
    _two_checkpoints(app)
    with app.app_context():
        line = audit.digest_line(db.session)
        cp = audit.last_checkpoint(db.session)
    assert "checkpoint 2:" in line and "30 entries" in line and cp.root[:16] in line and cp.signature[:16] in line


def test_cli_names_the_rolled_back_checkpoint_from_a_given_published_file(app, tmp_path):
    _two_checkpoints(app)
    with app.app_context():
        kept = tmp_path / "kept-elsewhere.jsonl"
        kept.write_bytes((audit.publish_dir(app.config) / audit.PUBLISHED_FILE).read_bytes())
    _raw(app, "DELETE FROM audit_entry WHERE seq > 10", "DELETE FROM audit_checkpoint WHERE id > 1",
         "UPDATE audit_head SET seq = 10")
    # the operator's publication directory was rewritten too: only the copy kept elsewhere still knows
    with app.app_context():
        (audit.publish_dir(app.config) / audit.PUBLISHED_FILE).write_text(kept.read_text().splitlines()[0] + "\n")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit-verify"]).exit_code == 0
    bad = runner.invoke(args=["audit-verify", "--published", str(kept)])
    assert bad.exit_code == 1 and "checkpoint 2 (entries from 11)" in bad.output and "rolled back" in bad.output
    assert runner.invoke(args=["audit-verify", "--published", str(tmp_path / "nope.jsonl")]).exit_code != 0


def test_standalone_proof_checker(app, tmp_path):
    """An auditor without the application: python -m clearance.audit_proof PROOF [PUBLISHED]."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    _two_checkpoints(app)
    proof = app.test_cli_runner().invoke(args=["audit-prove", "3"]).output
    f = tmp_path / "p.json"
    f.write_text(proof)
    with app.app_context():
        published = audit.publish_dir(app.config) / audit.PUBLISHED_FILE
    ok = subprocess.run([sys.executable, "-m", "clearance.audit_proof", str(f), str(published)], cwd=ROOT,
                        capture_output=True, text=True)
    assert ok.returncode == 0 and "OK: entry 3 is leaf 2 of checkpoint 1" in ok.stdout
    doc = json.loads(proof)
    doc["checkpoint"]["checkpoint"]["size"] = 11
    f.write_text(json.dumps(doc))
    bad = subprocess.run([sys.executable, "-m", "clearance.audit_proof", str(f), str(published)], cwd=ROOT,
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "signature" in bad.stdout
