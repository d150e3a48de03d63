"""Fixed vocabularies from the domain note: sectors, regions, prefectures, tiers, sizes.

Codes are stored; labels are translated at display time.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

SECTORS = {
    "semiconductors": _l("Semiconductors"),
    "electronic_components": _l("Electronic components"),
    "machine_tools": _l("Machine tools"),
    "robots": _l("Robots"),
    "aerospace": _l("Aerospace"),
    "automotive": _l("Automotive"),
    "chemicals": _l("Chemicals"),
    "steel": _l("Steel"),
    "medical_devices": _l("Medical devices"),
    "formed_materials": _l("Formed materials"),
    "pharmaceuticals": _l("Pharmaceuticals"),
}

REGIONS = {
    "hokkaido": _l("Hokkaido"),
    "tohoku": _l("Tohoku"),
    "kanto": _l("Kanto"),
    "chubu": _l("Chubu"),
    "kansai": _l("Kansai"),
    "chugoku": _l("Chugoku"),
    "shikoku": _l("Shikoku"),
    "kyushu": _l("Kyushu"),
    "okinawa": _l("Okinawa"),
}

# JIS X 0401 order; each prefecture with the METI regional bureau's region.
PREFECTURES: dict[str, tuple[str, str, str]] = {
    "01": ("北海道", "Hokkaido", "hokkaido"),
    "02": ("青森県", "Aomori", "tohoku"),
    "03": ("岩手県", "Iwate", "tohoku"),
    "04": ("宮城県", "Miyagi", "tohoku"),
    "05": ("秋田県", "Akita", "tohoku"),
    "06": ("山形県", "Yamagata", "tohoku"),
    "07": ("福島県", "Fukushima", "tohoku"),
    "08": ("茨城県", "Ibaraki", "kanto"),
    "09": ("栃木県", "Tochigi", "kanto"),
    "10": ("群馬県", "Gunma", "kanto"),
    "11": ("埼玉県", "Saitama", "kanto"),
    "12": ("千葉県", "Chiba", "kanto"),
    "13": ("東京都", "Tokyo", "kanto"),
    "14": ("神奈川県", "Kanagawa", "kanto"),
    "15": ("新潟県", "Niigata", "kanto"),
    "16": ("富山県", "Toyama", "chubu"),
    "17": ("石川県", "Ishikawa", "chubu"),
    "18": ("福井県", "Fukui", "kansai"),
    "19": ("山梨県", "Yamanashi", "kanto"),
    "20": ("長野県", "Nagano", "kanto"),
    "21": ("岐阜県", "Gifu", "chubu"),
    "22": ("静岡県", "Shizuoka", "kanto"),
    "23": ("愛知県", "Aichi", "chubu"),
    "24": ("三重県", "Mie", "chubu"),
    "25": ("滋賀県", "Shiga", "kansai"),
    "26": ("京都府", "Kyoto", "kansai"),
    "27": ("大阪府", "Osaka", "kansai"),
    "28": ("兵庫県", "Hyogo", "kansai"),
    "29": ("奈良県", "Nara", "kansai"),
    "30": ("和歌山県", "Wakayama", "kansai"),
    "31": ("鳥取県", "Tottori", "chugoku"),
    "32": ("島根県", "Shimane", "chugoku"),
    "33": ("岡山県", "Okayama", "chugoku"),
    "34": ("広島県", "Hiroshima", "chugoku"),
    "35": ("山口県", "Yamaguchi", "chugoku"),
    "36": ("徳島県", "Tokushima", "shikoku"),
    "37": ("香川県", "Kagawa", "shikoku"),
    "38": ("愛媛県", "Ehime", "shikoku"),
    "39": ("高知県", "Kochi", "shikoku"),
    "40": ("福岡県", "Fukuoka", "kyushu"),
    "41": ("佐賀県", "Saga", "kyushu"),
    "42": ("長崎県", "Nagasaki", "kyushu"),
    "43": ("熊本県", "Kumamoto", "kyushu"),
    "44": ("大分県", "Oita", "kyushu"),
    "45": ("宮崎県", "Miyazaki", "kyushu"),
    "46": ("鹿児島県", "Kagoshima", "kyushu"),
    "47": ("沖縄県", "Okinawa", "okinawa"),
}

TIERS = {
    1: _l("Primary materials"),
    2: _l("Secondary materials"),
    3: _l("Components"),
    4: _l("Finished goods"),
}

SIZE_CLASSES = {
    "large": _l("Large enterprise"),
    "mid": _l("Mid-sized enterprise"),
    "small": _l("Small enterprise"),
}

TECH_FIELDS = {
    "computing": _l("Computing"),
    "cleantech": _l("Clean tech"),
    "biotech": _l("Biotech"),
    "defence_space": _l("Defence, space and foundational technology"),
}

CRITICAL_MATERIALS = {
    "semiconductors": _l("Semiconductors"),
    "storage_batteries": _l("Storage batteries"),
    "cloud_programs": _l("Cloud programs"),
    "permanent_magnets": _l("Permanent magnets"),
    "machine_tools_robots": _l("Machine tools and industrial robots"),
    "aircraft_parts": _l("Aircraft parts"),
    "critical_minerals": _l("Critical minerals"),
    "natural_gas": _l("Natural gas"),
    "advanced_electronic_components": _l("Advanced electronic components"),
    "antibacterial_drugs": _l("Antibacterial drugs"),
    "fertiliser": _l("Fertiliser"),
    "ship_parts": _l("Ship parts"),
}

GROUP_KINDS = {
    "supply_chain": _l("Supply chain"),
    "technology": _l("Technology / product group"),
}


def prefecture_label(code: str, locale: str) -> str:
    ja, en, _region = PREFECTURES.get(code, (code, code, ""))
    return ja if locale == "ja" else en
