"""TOTP second factor (RFC 6238) with replay protection, QR as local SVG, recovery codes."""

from __future__ import annotations

import secrets
import time
import unicodedata

import pyotp
import segno
from markupsafe import Markup

ISSUER = "Taiwa"
DIGITS = 6
STEP = 30
DRIFT_STEPS = 1  # accept the previous and the next 30-second step for clock drift
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def new_secret() -> str:
    return pyotp.random_base32(length=32)  # 160 bits, as RFC 4226 recommends


def provisioning_uri(secret: str, account: str) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP).provisioning_uri(name=account, issuer_name=ISSUER)


def qr_svg(uri: str) -> Markup:
    """The enrolment QR code as inline SVG made here (no third-party service sees the secret)."""
    svg = segno.make(uri, error="m").svg_inline(scale=5, dark="#1b2a3a", light="#ffffff", border=3)
    return Markup(svg.replace("<svg ", '<svg role="img" aria-label="QR code" ', 1))  # noqa: S704 - segno output


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """Return the time step the code belongs to, or None. Comparison is constant-time."""
    # NFKC turns full-width digits typed with a Japanese IME into ASCII ones.
    code = "".join(ch for ch in unicodedata.normalize("NFKC", code) if ch in "0123456789")
    if len(code) != DIGITS:
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP)
    now = time.time() if now is None else now
    current = int(now // STEP)
    found = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            found = step
    return found


def accept(secret: str, code: str, last_step: int | None, now: float | None = None) -> int | None:
    """Verify a code and refuse any step already used (a replayed code). Returns the step to remember."""
    step = matching_step(secret, code, now)
    if step is None or (last_step is not None and step <= last_step):
        return None
    return step


def new_recovery_codes(n: int = RECOVERY_CODES) -> list[str]:
    """Ten codes of 12 characters from a 31-letter alphabet: about 59 bits each."""
    return [
        "-".join("".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(4)) for _ in range(3)) for _ in range(n)
    ]


def normalise_recovery(code: str) -> str:
    raw = "".join(ch for ch in unicodedata.normalize("NFKC", code).lower() if ch.isascii() and ch.isalnum())
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))
