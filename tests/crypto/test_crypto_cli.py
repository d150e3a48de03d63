"""The Flask CLI commands rotate-keys, key-status and retire-key."""

from __future__ import annotations

from types import SimpleNamespace

from clearance.crypto import cli
from clearance.db import new_id


def seed(env: SimpleNamespace, n: int) -> None:
    for i in range(n):
        note = env.Note(id=new_id(), level=1)
        note.body = f"b{i}"
        env.session.add(note)
    env.session.commit()


def test_status_rotate_retire_through_the_cli(flask_db: SimpleNamespace) -> None:
    seed(flask_db, 3)
    for command in cli.COMMANDS:
        flask_db.app.cli.add_command(command)
    runner = flask_db.app.test_cli_runner()

    status = runner.invoke(args=["key-status"])
    assert status.exit_code == 0, status.output
    assert "main v1" in status.output and "3  current" in status.output

    refused = runner.invoke(args=["retire-key", "main", "1"])
    assert refused.exit_code != 0 and "current" in refused.output

    rotated = runner.invoke(args=["rotate-keys", "--batch-size", "2"])
    assert rotated.exit_code == 0, rotated.output
    assert "target main v2: 3 rows" in rotated.output and "rotation finished" in rotated.output

    retired = runner.invoke(args=["retire-key", "main", "1"])
    assert retired.exit_code == 0, retired.output
    assert "retired main v1" in retired.output

    after = runner.invoke(args=["key-status"])
    assert "main v1" in after.output and "retired" in after.output
    assert "main v2" in after.output and "3  current" in after.output
