"""Merkle trees and proofs of the audit log, with no database and no Flask: an auditor's tool.

RFC 9162 (Certificate Transparency 2.0) hashing: leaf = SHA-256(0x00 ‖ leaf input),
node = SHA-256(0x01 ‖ left ‖ right), the empty tree hashes to SHA-256(""). A leaf input is the
entry's content digest (SHA-256 of its canonical form, which anyone holding the entry can
recompute) followed by its MAC (which only the key holder can), so a signed tree head commits to
both. Each checkpoint is the tree over the entries it adds; checkpoints chain by hash.

`check_proof(proof, published=...)` checks one entry against its signed checkpoint and, when given,
the published checkpoint file, without the rest of the log (`flask audit-check-proof FILE`, or
`python -m clearance.audit_proof PROOF.json [PUBLISHED.jsonl]` outside the application).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from clearance.crypto.keyed import verify_signature

GENESIS = "0" * 64
ENTRY_DOMAIN = "taiwa-audit-entry/v1"
CHECKPOINT_DOMAIN = b"taiwa-audit-checkpoint/v1\n"
PROOF_FORMAT = "taiwa-audit-proof/1"
_sha = hashlib.sha256


def content_digest(seq: int, occurred_at: datetime | str, actor_id: str | None, actor: str, realm: str, kind: str,
                   summary: str, data: str, key_ref: str) -> bytes:
    """SHA-256 over every stored field of an entry except its MAC (the MAC is over this digest)."""
    when = occurred_at if isinstance(occurred_at, str) else occurred_at.isoformat(timespec="microseconds")
    return _sha(_encode([ENTRY_DOMAIN, seq, when, actor_id, actor, realm, kind, summary, data, key_ref]).encode()).digest()


# One encoder for every entry: json.dumps with options builds a new one per call (verify runs it a million times).
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def leaf_hash(digest: bytes, mac: bytes) -> bytes:
    return _sha(b"\x00" + digest + mac).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return _sha(b"\x01" + left + right).digest()


def tree_levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """All levels of the RFC 9162 tree, leaves first. Pairing left to right and carrying an odd last
    node up unchanged builds exactly the tree of the RFC's largest-power-of-two split."""
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        cur = levels[-1]
        nxt = [_node(cur[i], cur[i + 1]) for i in range(0, len(cur) - 1, 2)]
        if len(cur) % 2:
            nxt.append(cur[-1])
        levels.append(nxt)
    return levels


def root_of(leaves: Sequence[bytes]) -> bytes:
    if not leaves:
        return _sha(b"").digest()
    return tree_levels(leaves)[-1][0]


def audit_path(levels: list[list[bytes]], index: int) -> list[bytes]:
    path = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        index //= 2
    return path


def root_from_path(leaf: bytes, index: int, size: int, path: Iterable[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2: the root an inclusion proof leads to, or None if it is malformed."""
    if not 0 <= index < size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = _node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


# -- checkpoints ---------------------------------------------------------------------------------


def checkpoint_message(body: dict[str, Any]) -> bytes:
    """What is signed: the domain line and the canonical JSON of the checkpoint body."""
    return CHECKPOINT_DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def checkpoint_hash(body: dict[str, Any], signature_hex: str) -> str:
    """The next checkpoint's `prev`: binds the body and its signature."""
    return _sha(checkpoint_message(body) + bytes.fromhex(signature_hex)).hexdigest()


def signature_ok(record: dict[str, Any], public_hex: str | None = None) -> bool:
    """A published or proof checkpoint record {"checkpoint", "signature", "public_key"}: signed by
    `public_hex` (the pinned key) or, without one, by the key it names."""
    try:
        key = bytes.fromhex(public_hex or record["public_key"])
        return verify_signature(key, checkpoint_message(record["checkpoint"]), bytes.fromhex(record["signature"]))
    except (KeyError, TypeError, ValueError):
        return False


def read_published(path: str | Path) -> list[dict[str, Any]]:
    """The lines of a published checkpoint file (a torn last line, from a crash mid-write, is skipped)."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def check_proof(proof: dict[str, Any], published: list[dict[str, Any]] | None = None,
                public_hex: str | None = None) -> list[str]:
    """Problems with an inclusion proof ([] when it holds): the entry's digest, its path to the
    checkpoint's root, the checkpoint's signature, and, given the published file, that the same
    checkpoint was published."""
    problems: list[str] = []
    try:
        if proof.get("format") != PROOF_FORMAT:
            return [f"not a {PROOF_FORMAT} document"]
        e, record = proof["entry"], proof["checkpoint"]
        body = record["checkpoint"]
        digest = content_digest(e["seq"], e["occurred_at"], e["actor_id"], e["actor"], e["realm"], e["kind"],
                                e["summary"], e["data"], e["key"])
        if digest.hex() != e.get("digest"):
            problems.append("the entry's content does not match its digest")
        leaf = leaf_hash(digest, bytes.fromhex(e["mac"]))
        index, size = int(proof["leaf_index"]), int(proof["tree_size"])
        if size != body["size"]:
            problems.append("tree size differs from the checkpoint's")
        root = root_from_path(leaf, index, size, [bytes.fromhex(h) for h in proof["audit_path"]])
        if root is None or root.hex() != body["root"]:
            problems.append("the audit path does not lead to the checkpoint's root")
        if not signature_ok(record, public_hex):
            problems.append("the checkpoint's signature does not verify")
        if published is not None:
            same = [p for p in published if p.get("checkpoint", {}).get("id") == body["id"]]
            if not same:
                problems.append(f"checkpoint {body['id']} is not in the published file")
            elif same[0].get("checkpoint") != body or same[0].get("signature") != record["signature"]:
                problems.append(f"checkpoint {body['id']} differs from the published one")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        problems.append(f"malformed proof ({type(exc).__name__})")
    return problems


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not 1 <= len(args) <= 2:
        print("usage: python -m clearance.audit_proof PROOF.json [PUBLISHED.jsonl]", file=sys.stderr)
        return 2
    proof = json.loads(Path(args[0]).read_text(encoding="utf-8"))
    published = read_published(args[1]) if len(args) == 2 else None
    problems = check_proof(proof, published)
    for p in problems:
        print("FAIL:", p)
    if not problems:
        print(f"OK: entry {proof['entry']['seq']} is leaf {proof['leaf_index']} of checkpoint "
              f"{proof['checkpoint']['checkpoint']['id']}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
