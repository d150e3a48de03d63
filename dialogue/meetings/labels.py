"""Display labels for the codes stored on dialogues and invitations (translated at display time)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

FORMAT_LABELS = {
    "association": _l("Industry association"),
    "supply_chain": _l("Whole supply chain"),
    "technology": _l("Technology / product group"),
    "company": _l("Individual company"),
}

STATUS_LABELS = {
    "planned": _l("Planned"),
    "invited": _l("Invitations sent"),
    "held": _l("Held"),
    "closed": _l("Closed"),
    "cancelled": _l("Cancelled"),
    "postponed": _l("Postponed"),
}

#: the button text for moving to a status
TRANSITION_LABELS = {
    "held": _l("Mark as held"),
    "closed": _l("Close"),
    "cancelled": _l("Cancel the dialogue"),
    "postponed": _l("Postpone"),
    "planned": _l("Back to planned"),
}

REPLY_LABELS = {
    "pending": _l("Awaiting reply"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "delegated": _l("Passed to a colleague"),
    "withdrawn": _l("Withdrawn"),
    "waitlisted": _l("On the waiting list"),
    "revoked": _l("Withdrawn by the ministry"),
}

LEVEL_LABELS = {
    0: _l("Public"),
    1: _l("Level 1 (restricted)"),
    2: _l("Level 2 (cleared staff only)"),
}

EXCLUSION_LABELS = {
    "no_account": _l("No active account in Taiwa"),
    "already_invited": _l("Already invited"),
    "clearance": _l("Not cleared for this level"),  # the policy's reason follows in brackets
    "clearance_unavailable": _l("Clearance check not yet available: nobody is invited above public"),
}

TOPIC_LABELS = {"topic": _l("Topic"), "question": _l("Question")}

# Refused codes → the message the user reads.
MESSAGES = {
    "format": _l("Choose a dialogue format."),
    "counterpart": _l("Choose the counterpart that matches the format."),
    "time_zone": _l("Choose a time zone from the list."),
    "end_before_start": _l("The end must be after the start."),
    "too_long": _l("A dialogue lasts at most 24 hours."),
    "nonexistent_time": _l("That time does not exist in this time zone (the clocks skip it). Choose another."),
    "no_host": _l("Choose at least one hosting officer."),
    "host": _l("Hosting officers must be active officers."),
    "deadline_after_start": _l("The answer deadline must be before the start."),
    "title": _l("Enter a title."),
    "level": _l("Choose a classification level."),
    "seat_limit": _l("The seat limit must be at least 1, or empty for no limit."),
    "online_url": _l("The online link must start with https://."),
    "agenda_long": _l("At most %(cap)d agenda items."),
    "not_editable": _l("A dialogue that has taken place or was cancelled cannot be changed."),
    "transition": _l("That status change is not possible from the current status."),
    "reason_required": _l("Give a reason: invitees receive it."),
    "not_started": _l("A dialogue can be marked as held only once it has started."),
    "not_open": _l("This dialogue is no longer open for invitations or replies."),
    "already_started": _l("This dialogue has already started."),
    "preview_changed": _l("The list of invitees changed since the preview. Check the new preview and send again."),
    "nobody": _l("Nobody to invite: the preview is empty."),
    "answer": _l("Choose an answer."),
    "not_yours": _l("Only the invitee or their company administrator can answer this invitation."),
    "deadline_passed": _l("The answer deadline has passed."),
    "reply_state": _l("This answer is not possible now."),
    "colleague": _l("Choose a colleague from your company."),
    "colleague_invited": _l("That colleague is already invited."),
    "topic_kind": _l("Choose topic or question."),
    "topic_empty": _l("Write your topic or question."),
    "rsvp_unknown": _l("This link is not valid. Sign in to the portal to answer."),
    "rsvp_used": _l("This link has already been used. Sign in to the portal to change your answer."),
    "rsvp_expired": _l("This link has expired. Sign in to the portal to see the invitation."),
    "rsvp_revoked": _l("The ministry has withdrawn this invitation, so this link no longer works."),
    "revoked": _l("The ministry has withdrawn this invitation: it can no longer be answered or passed on."),
    "revoke_closed": _l("Invitations to a dialogue that was held, closed or cancelled cannot be withdrawn."),
    "already_revoked": _l("This invitation has already been withdrawn."),
    "revoke_delegated": _l("This invitation was passed to a colleague: withdraw the colleague's invitation instead."),
    "revoke_reason_long": _l("The reason is too long: at most %(cap)d characters. Nothing was changed."),
    "series_zone": _l("The time zone can be changed for this dialogue only, not for the following ones."),
    "series_day_change": _l("The new time would move it to another day. Change that dialogue on its own."),
}

SERIES_MESSAGES = {
    "syntax": _l("The repeat rule is not a valid RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=3WE;COUNT=6."),
    "until_utc": _l("Write UNTIL as a date without a time zone, e.g. UNTIL=20261231."),
    "too_often": _l("A series repeats at most daily."),
    "empty": _l("This rule produces no dates after the start."),
    "too_many": _l("A series has at most %(cap)d dialogues: add COUNT=… or UNTIL=… to the rule."),
    "unknown_preset": _l("Choose how the dialogue repeats."),
}


def message(code: str, values: dict | None = None, table: dict | None = None) -> str:
    text = str((table or MESSAGES).get(code, MESSAGES["reply_state"]))
    try:
        return text % values if values and "%(" in text else text
    except (KeyError, TypeError, ValueError):
        return text
