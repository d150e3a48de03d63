"""The desk's fixed vocabularies: what a consultation is about, where the firm sits,
how a case moves, and the labels officers sort by.

Codes are stored; labels are translated at display time. Labels are a fixed
list on purpose: free-text labels would be case content kept in clear.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from dialogue.registry.taxonomy import SECTORS as REGISTRY_SECTORS
from dialogue.registry.taxonomy import SIZE_CLASSES as REGISTRY_SIZES
from dialogue.registry.taxonomy import TIERS as REGISTRY_TIERS

CATEGORIES = {
    "technology_transfer": _l("A customer is pressing us to hand over technology"),
    "acquisition": _l("Someone wants to buy our company or a stake in it"),
    "relocation_or_jv": _l("We are asked to move a plant abroad or accept a majority joint venture"),
    "patent_infringement": _l("Our patents are infringed abroad"),
    "price_pass_through": _l("Unfair price pass-through"),
    "supply_coercion": _l("Supply disruption or coercion"),
    "other": _l("Something else"),
}

#: short forms for the officers' inbox table
CATEGORY_SHORT = {
    "technology_transfer": _l("Technology transfer pressure"),
    "acquisition": _l("Acquisition approach"),
    "relocation_or_jv": _l("Relocation / majority JV"),
    "patent_infringement": _l("Patent infringement abroad"),
    "price_pass_through": _l("Price pass-through"),
    "supply_coercion": _l("Supply disruption / coercion"),
    "other": _l("Other"),
}

SECTORS = {**REGISTRY_SECTORS, "other": _l("Other sector")}
TIERS = {str(k): v for k, v in REGISTRY_TIERS.items()}
SIZE_CLASSES = dict(REGISTRY_SIZES)

STATUSES = {
    "new": _l("New"),
    "acknowledged": _l("Acknowledged"),
    "in_progress": _l("In progress"),
    "answered": _l("Answered"),
    "closed": _l("Closed"),
}

#: what the submitter sees: calmer words, no internal workflow
STATUS_FOR_SUBMITTER = {
    "new": _l("Received — waiting for an officer to pick it up"),
    "acknowledged": _l("An officer has taken up your consultation"),
    "in_progress": _l("The ministry is working on your consultation"),
    "answered": _l("The ministry has replied"),
    "closed": _l("Closed"),
}

#: status -> statuses an officer may move it to
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("acknowledged", "in_progress", "closed"),
    "acknowledged": ("in_progress", "answered", "closed"),
    "in_progress": ("answered", "closed"),
    "answered": ("in_progress", "closed"),
    "closed": ("in_progress",),
}

LABELS = {
    "urgent": _l("Urgent"),
    "export_control": _l("Export control"),
    "investment_screening": _l("Investment screening"),
    "technology_protection": _l("Technology protection"),
    "legal": _l("Needs legal advice"),
    "other_ministry": _l("Other ministry concerned"),
    "policy_input": _l("Policy input"),
    "follow_up": _l("Follow up"),
}

#: metadata the cleaner can report, in the words the submitter reads
REMOVED = {
    "gps": _l("location (GPS coordinates)"),
    "camera": _l("camera make, model and serial number"),
    "datetime": _l("date and time the file was made or changed"),
    "author": _l("author or owner name"),
    "company": _l("company or organisation name"),
    "software": _l("software used"),
    "exif": _l("other photo details (EXIF)"),
    "xmp": _l("embedded XMP metadata"),
    "iptc": _l("embedded IPTC metadata"),
    "comment": _l("embedded comments"),
    "thumbnail": _l("embedded preview image"),
    "title": _l("title, subject and keywords"),
    "custom": _l("custom document properties"),
    "reviewers": _l("names in comments and tracked changes"),
    "doc_info": _l("document information (author, creator, dates)"),
    "pdf_id": _l("document identifier"),
    "zip_times": _l("file dates inside the document"),
    "template": _l("template and manager names"),
    "printer": _l("printer and revision details"),
    "icc": _l("colour profile"),
}
