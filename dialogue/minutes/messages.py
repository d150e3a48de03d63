"""What each refused minutes action tells the officer or participant (codes from service.MinutesError)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from dialogue.minutes.models import STATUS_LABELS

MESSAGES = {
    "missing_revision": _l("The minutes' current revision is missing. Ask an administrator to check the database."),
    "dialogue_not_held": _l("Minutes can be written once the dialogue has been held."),
    "exists": _l("This dialogue already has minutes."),
    "not_editable": _l("These minutes cannot be changed in their current state."),
    "no_such_revision": _l("There is no such revision."),
    "transition": _l("That step is not possible now; someone may have moved the minutes on. Reload the page."),
    "second_officer": _l("A second officer must approve: not the one who sent the minutes to review or wrote the "
                         "current revision."),
    "deadline": _l("Choose a correction deadline at least an hour ahead and within %(days)d days."),
    "note_required": _l("Say why the minutes go back to draft."),
    "open_corrections": _l("Answer every correction request before approving the minutes."),
    "addendum_needs_lock": _l("Addenda are added to locked minutes; until then, edit the minutes."),
    "addendum_empty": _l("Write the addendum."),
    "too_long": _l("Keep it under %(n)d characters."),
    "public_needs_public_label": _l("Only public text can go into the public summary."),
    "label_above_clearance": _l("You may not label text above what you are cleared to read."),
    "not_in_review": _l("The minutes are not open for corrections."),
    "deadline_passed": _l("The deadline for corrections has passed."),
    "correction_empty": _l("Describe the correction you would like."),
    "no_such_section": _l("Choose a section from the list."),
    "no_such_correction": _l("There is no such correction request."),
    "already_resolved": _l("This correction request has already been answered."),
}


def message(code: str, values: dict | None = None) -> str:
    text = MESSAGES.get(code)
    if text is None:
        return str(_l("That did not work. Reload the page and try again."))
    return str(text) % values if values else str(text)


__all__ = ["MESSAGES", "STATUS_LABELS", "message"]
