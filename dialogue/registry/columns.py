"""The company spreadsheet: its columns and the words accepted in each (import and export share them).

Export writes labels in the reader's language; import accepts codes, English and
Japanese labels (from the catalog and from the fixed list below, so a file keeps
importing whatever wording the translators choose), folded for width and case.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from dialogue.registry.search import fold
from dialogue.registry.taxonomy import CRITICAL_MATERIALS, PREFECTURES, REGIONS, SECTORS, SIZE_CLASSES, TECH_FIELDS


@dataclass(frozen=True)
class Column:
    key: str
    label: object  # lazy string: the header in the reader's language
    ja: str  # the Japanese header, accepted on import whatever the catalog says
    required: bool = False
    multi: bool = False
    #: exported for reading but ignored on import (derived from another column)
    derived: bool = False


COLUMNS: tuple[Column, ...] = (
    Column("corporate_number", _l("Corporate number"), "法人番号", required=True),
    Column("name_ja", _l("Name (Japanese)"), "名称", required=True),
    Column("name_en", _l("Name (English)"), "英語名称", required=True),
    Column("size_class", _l("Size class"), "規模", required=True),
    Column("prefecture", _l("Prefecture"), "都道府県", required=True),
    Column("region", _l("Region"), "地域", derived=True),
    Column("sectors", _l("Sectors"), "業種", required=True, multi=True),
    Column("tech_field", _l("Technology field"), "技術分野"),
    Column("materials", _l("Critical materials"), "特定重要物資", multi=True),
    Column("key_products", _l("Key products"), "主要製品"),
    Column("key_technologies", _l("Key technologies"), "主要技術"),
    Column("associations", _l("Industry associations"), "業界団体", multi=True),
)
BY_KEY = {c.key: c for c in COLUMNS}
#: separators inside a multi-value cell; "・" is not one (it sits inside labels such as 防衛・宇宙・基盤技術)
SEPARATORS = (";", "；", "、", ",", "，", "|", "｜", "\n")
EXPORT_SEPARATOR = "; "

SECTORS_JA = {
    "semiconductors": ("半導体",), "electronic_components": ("電子部品",), "machine_tools": ("工作機械",),
    "robots": ("ロボット",), "aerospace": ("航空宇宙",), "automotive": ("自動車",), "chemicals": ("化学",),
    "steel": ("鉄鋼",), "medical_devices": ("医療機器",), "formed_materials": ("素形材",),
    "pharmaceuticals": ("製薬", "医薬品"),
}
SIZES_JA = {"large": ("大企業",), "mid": ("中堅", "中堅企業"), "small": ("中小", "中小企業", "小規模事業者")}
TECH_JA = {"computing": ("コンピューティング",), "cleantech": ("クリーンテック",), "biotech": ("バイオテック",),
           "defence_space": ("防衛・宇宙・基盤技術", "防衛・宇宙", "基盤技術")}
MATERIALS_JA = {
    "semiconductors": ("半導体",), "storage_batteries": ("蓄電池",), "cloud_programs": ("クラウドプログラム",),
    "permanent_magnets": ("永久磁石",), "machine_tools_robots": ("工作機械・産業用ロボット", "工作機械", "産業用ロボット"),
    "aircraft_parts": ("航空機の部品", "航空機部品"), "critical_minerals": ("重要鉱物",), "natural_gas": ("天然ガス",),
    "advanced_electronic_components": ("先端電子部品",), "antibacterial_drugs": ("抗菌性物質製剤", "抗菌薬"),
    "fertiliser": ("肥料",), "ship_parts": ("船舶の部品", "船舶部品"),
}


def _vocabulary(labels: dict, extra_ja: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """folded word -> code: the code itself, its label in both languages, and the fixed Japanese words."""
    words: dict[str, str] = {}
    for code, label in labels.items():
        words[fold(code)] = code
        for loc in ("en", "ja"):
            with force_locale(loc):
                words.setdefault(fold(str(label)), code)
        for ja in extra_ja.get(code, ()):
            words.setdefault(fold(ja), code)
    return words


@cache
def vocabularies() -> dict[str, dict[str, str]]:
    """Built once per process (needs an app context for the catalogs)."""
    prefectures: dict[str, str] = {}
    for code, (ja, en, _region) in PREFECTURES.items():
        short = ja[:-1] if ja[-1] in "都府県" else ja  # 東京都 → 東京, 京都府 → 京都; 北海道 stays whole
        for word in (code, str(int(code)), ja, en, short):
            prefectures.setdefault(fold(word), code)
    return {
        "sectors": _vocabulary(SECTORS, SECTORS_JA),
        "size_class": _vocabulary(SIZE_CLASSES, SIZES_JA),
        "tech_field": _vocabulary(TECH_FIELDS, TECH_JA),
        "materials": _vocabulary(CRITICAL_MATERIALS, MATERIALS_JA),
        "prefecture": prefectures,
    }


@cache
def header_words() -> dict[str, str]:
    """folded header text -> column key (key, Japanese header, label in both languages)."""
    words: dict[str, str] = {}
    for col in COLUMNS:
        words[fold(col.key)] = col.key
        words[fold(col.ja)] = col.key
        for loc in ("en", "ja"):
            with force_locale(loc):
                words.setdefault(fold(str(col.label)), col.key)
    return words


def split_multi(cell: str) -> list[str]:
    parts = [cell]
    for sep in SEPARATORS:
        parts = [p for chunk in parts for p in chunk.split(sep)]
    return [p.strip() for p in parts if p.strip()]


def region_of(prefecture: str) -> str:
    return PREFECTURES.get(prefecture, ("", "", ""))[2]


__all__ = ["BY_KEY", "COLUMNS", "EXPORT_SEPARATOR", "REGIONS", "Column", "header_words", "region_of", "split_multi",
           "vocabularies"]
