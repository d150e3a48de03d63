"""The one place that turns stored audit values (realm, kind, summary) into the reader's language.

Entries store fixed English keys (they are part of the MAC'd content and must never change with
the reader's language); the page, the exports' readable columns and anything else shown to people
go through `labels(realm, kind, summary)`. An unknown value is shown as stored, never hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

AREAS = {
    "access": _l("Access"), "account": _l("Accounts"), "admin": _l("Administration"),
    "auth": _l("Sign-in and sessions"), "backup": _l("Backups"), "briefings": _l("Briefings"),
    "calendar": _l("Calendar feeds"), "clearance": _l("Clearances"), "consult": _l("Consultation desk"),
    "crypto": _l("Encryption"), "dialogue": _l("Dialogues"), "feedback": _l("Feedback"), "minutes": _l("Minutes"),
    "register": _l("Company register"), "reports": _l("Reports"), "system": _l("System"),
}
KINDS = {"positive": _l("Success"), "negative": _l("Refused or failed"), "change": _l("Change"),
         "info": _l("Information")}
#: one _l per literal, so message extraction sees each msgid
SUMMARIES = {
    "Access denied": _l("Access denied"), "Account created": _l("Account created"),
    "Account reactivated": _l("Account reactivated"), "Account deactivated": _l("Account deactivated"),
    "Advance topic sent": _l("Advance topic sent"), "Anonymous feedback taken in": _l("Anonymous feedback taken in"),
    "Backup restored": _l("Backup restored"), "Backup written": _l("Backup written"),
    "Briefing attachment added": _l("Briefing attachment added"), "Briefing changed": _l("Briefing changed"),
    "Briefing created": _l("Briefing created"), "Briefing released": _l("Briefing released"),
    "Briefing withdrawn": _l("Briefing withdrawn"), "Calendar feed created": _l("Calendar feed created"),
    "Calendar feed revoked": _l("Calendar feed revoked"), "Certification recorded": _l("Certification recorded"),
    "Clearance recorded": _l("Clearance recorded"), "Compartment created": _l("Compartment created"),
    "Consultation answered": _l("Consultation answered"), "Consultation assigned": _l("Consultation assigned"),
    "Consultation case purged (retention)": _l("Consultation case purged (retention)"),
    "Consultation case read": _l("Consultation case read"),
    "Consultation desk reminders sent": _l("Consultation desk reminders sent"),
    "Consultation desk: public activity of the day": _l("Consultation desk: public activity of the day"),
    "Consultation labels changed": _l("Consultation labels changed"),
    "Consultation passage passed on as anonymised feedback":
        _l("Consultation passage passed on as anonymised feedback"),
    "Consultation status changed": _l("Consultation status changed"), "Decryption failed": _l("Decryption failed"),
    "Demo data loaded": _l("Demo data loaded"), "Dialogue changed": _l("Dialogue changed"),
    "Dialogue planned": _l("Dialogue planned"), "Dialogue series changed": _l("Dialogue series changed"),
    "Dialogue series planned": _l("Dialogue series planned"), "Expiry reminders queued": _l("Expiry reminders queued"),
    "Feedback answered": _l("Feedback answered"), "Feedback answer revised": _l("Feedback answer revised"),
    "Feedback linked to measures": _l("Feedback linked to measures"), "Feedback received": _l("Feedback received"),
    "Feedback reclassified": _l("Feedback reclassified"), "Feedback status changed": _l("Feedback status changed"),
    "Invitation delegated": _l("Invitation delegated"), "Invitation revoked": _l("Invitation revoked"),
    "Invitations sent": _l("Invitations sent"),
    "Level-2 certification approved": _l("Level-2 certification approved"),
    "Level-2 certification recorded, awaiting a second security officer":
        _l("Level-2 certification recorded, awaiting a second security officer"),
    "Level-2 clearance approved": _l("Level-2 clearance approved"),
    "Level-2 clearance recorded, awaiting a second security officer":
        _l("Level-2 clearance recorded, awaiting a second security officer"),
    "Minutes addendum added": _l("Minutes addendum added"), "Minutes approved": _l("Minutes approved"),
    "Minutes approved internally": _l("Minutes approved internally"),
    "Minutes correction answered": _l("Minutes correction answered"),
    "Minutes correction requested": _l("Minutes correction requested"), "Minutes locked": _l("Minutes locked"),
    "Minutes returned to draft": _l("Minutes returned to draft"),
    "Minutes revision restored": _l("Minutes revision restored"), "Minutes saved": _l("Minutes saved"),
    "Minutes section label lowered": _l("Minutes section label lowered"),
    "Minutes sent to internal review": _l("Minutes sent to internal review"), "Minutes started": _l("Minutes started"),
    "Officer added to the consultation desk": _l("Officer added to the consultation desk"),
    "Officer removed from the consultation desk": _l("Officer removed from the consultation desk"),
    "Orphaned files removed": _l("Orphaned files removed"),
    "Password reset asked for an unknown address": _l("Password reset asked for an unknown address"),
    "Password reset completed": _l("Password reset completed"), "Password reset requested": _l("Password reset requested"),
    "Pending certification rejected": _l("Pending certification rejected"),
    "Pending clearance rejected": _l("Pending clearance rejected"), "Policy measure added": _l("Policy measure added"),
    "Read allowed": _l("Read allowed"), "Read denied": _l("Read denied"), "Recovery code used": _l("Recovery code used"),
    "Report requested": _l("Report requested"), "Role changed": _l("Role changed"), "Sign-in failed": _l("Sign-in failed"),
    "Sign-in lock lifted": _l("Sign-in lock lifted"),
    "Sign-in locked out after repeated failures": _l("Sign-in locked out after repeated failures"),
    "Sign-in refused: locked": _l("Sign-in refused: locked"), "Signed in": _l("Signed in"),
    "Signed out": _l("Signed out"), "Two-step sign-in disabled": _l("Two-step sign-in disabled"),
    "Two-step sign-in enabled": _l("Two-step sign-in enabled"),
    "Two-step sign-in reset by an administrator": _l("Two-step sign-in reset by an administrator"),
    "Waiting list promoted": _l("Waiting list promoted"),
}
#: summaries built as "<prefix> <values>": the prefix is translated, the values shown as stored
PREFIXES = (("Briefing label ", _l("Briefing label")), ("Dialogue status ", _l("Dialogue status")),
            ("Invitation ", _l("Invitation status")))


@dataclass(frozen=True)
class Labels:
    area: str
    kind: str
    summary: str


def labels(realm: str, kind: str, summary: str) -> Labels:
    """Area, kind and summary of an entry in the current locale."""
    text = SUMMARIES.get(summary)
    if text is None:
        for prefix, label in PREFIXES:
            if summary.startswith(prefix):
                text = f"{label} {summary[len(prefix):]}"
                break
    return Labels(str(AREAS.get(realm, realm)), str(KINDS.get(kind, kind)), str(text if text is not None else summary))


def area_choices() -> list[tuple[str, str]]:
    return sorted(((k, str(v)) for k, v in AREAS.items()), key=lambda kv: kv[1])
