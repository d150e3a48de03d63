"""The fixed vocabularies of feedback: 3P categories, sub-topics, policy instruments, statuses.

Codes are stored; labels are translated at display time. The sub-topics are the
headings of the ministry's own digest of industry's reactions (「産業界からの経済安全保障に
関する主な反応」 in the council deck, see ../shared/docs/domain.md), so a report built
from live data sorts feedback exactly the way the ministry already does. Each
category also has an "other" sub-topic so nothing is forced into a wrong box.
The Japanese term is in the comment beside each entry for the translator.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

CATEGORIES = {
    "promotion": _l("Promotion"),  # 産業支援策
    "protection": _l("Protection"),  # 産業防衛策
    "partnership": _l("Partnership"),  # 国際枠組みの構築・産業対話
}

#: Partnership is split in the source into public–private dialogue and international frameworks.
GROUPS = {
    "dialogue": _l("Public–private strategic dialogue"),  # 官民の戦略的対話
    "international": _l("International frameworks"),  # 国際的枠組みの構築
}


@dataclass(frozen=True)
class Subtopic:
    code: str
    category: str
    label: object  # a lazy string
    #: the policy instrument an item on this sub-topic usually concerns (the default when a sender is unsure)
    instrument: str
    group: str | None = None


SUBTOPICS: dict[str, Subtopic] = {
    s.code: s
    for s in (
        # 産業支援策 (Promotion)
        Subtopic("important_bases", "promotion", _l("Clarify which industrial bases matter for economic security"), "budget_tax"),  # 重要な産業基盤の明確化
        Subtopic("investment_payback", "promotion", _l("Demand creation and tax so that investment pays back"), "budget_tax"),  # 需要喚起策・税制による投資回収
        Subtopic("joint_development", "promotion", _l("Industry-wide next-generation development (consortia)"), "rd"),  # コンソーシアム等による次世代開発
        Subtopic("promotion_other", "promotion", _l("Other promotion measures"), "finance"),  # その他の産業支援策
        # 産業防衛策 (Protection)
        Subtopic("core_competence_forum", "protection", _l("A forum to share views on core competences"), "technology_management"),  # コアコンピタンスの認識共有の場
        Subtopic("anonymous_window", "protection", _l("An anonymous consultation window for subcontractors"), "dialogue"),  # 下請企業の匿名相談窓口
        Subtopic("leakage_guidance", "protection", _l("Guidance on the minimum measures against technology leakage"), "technology_management"),  # 技術流出対策の指針
        Subtopic("regulate_key_tech", "protection", _l("Regulate and manage technologies that need protection"), "export_control"),  # 重要技術の規制・管理
        Subtopic("coercive_requests", "protection", _l("Requests to site plants or cede JV majorities in countries of concern"), "investment_screening"),  # 懸念国への工場立地・JVマジョリティ要請
        Subtopic("sme_technology", "protection", _l("Support for the technology of Tier-1 suppliers and SMEs"), "technology_management"),  # 部素材・中堅中小企業の技術支援・管理
        Subtopic("acquisition_defence", "protection", _l("Protection from acquisition; direction on restructuring"), "investment_screening"),  # 買収からの防護・事業再編の方向性
        Subtopic("patent_abroad", "protection", _l("Help against patent infringement abroad"), "international"),  # 進出先国での特許侵害への支援
        Subtopic("information_guidelines", "protection", _l("Information-handling guidelines aligned with like-minded countries"), "data_security"),  # 同志国と整合した情報保全ガイドライン
        Subtopic("security_clearance", "protection", _l("An internationally recognised security clearance"), "data_security"),  # 国際的に通用するセキュリティ・クリアランス
        Subtopic("protection_other", "protection", _l("Other protection measures"), "cybersecurity"),  # その他の産業防衛策
        # 官民の戦略的対話 (Partnership: dialogue)
        Subtopic("more_dialogue", "partnership", _l("Continue and widen the dialogue across industries"), "dialogue", "dialogue"),  # 産業横断型対話の継続・頻度
        Subtopic("threat_information", "partnership", _l("Concrete threat information and example countermeasures"), "dialogue", "dialogue"),  # 脅威情報・具体的な対策例
        Subtopic("peer_situation", "partnership", _l("Learn how other firms are affected"), "dialogue", "dialogue"),  # 他社の状況の共有
        Subtopic("legal_opacity", "partnership", _l("Business risk from opaque law enforcement abroad"), "international", "dialogue"),  # 法執行の不透明性によるビジネスリスク
        Subtopic("price_pass_through", "partnership", _l("Guidelines for fair price pass-through"), "dialogue", "dialogue"),  # 適正な価格転嫁のガイドライン
        Subtopic("geopolitical_finance", "partnership", _l("Geopolitical risk in financial assessment"), "finance", "dialogue"),  # 地政学リスクの金融面での評価
        # 国際的枠組みの構築 (Partnership: international)
        Subtopic("avoid_decoupling", "partnership", _l("Decoupling is the worst case"), "international", "international"),  # デカップリングは最悪のシナリオ
        Subtopic("fair_derisking", "partnership", _l("Fair de-risking rules with the G7 and like-minded countries"), "international", "international"),  # 公平なデリスキングのルール
        Subtopic("joint_protection", "partnership", _l("Protect shared technology leads with like-minded countries"), "international", "international"),  # 同志国との技術保護の協働
        Subtopic("partnership_other", "partnership", _l("Other partnership matters"), "dialogue", "dialogue"),  # その他
    )
}

#: The twelve policy instruments of the action plan.
INSTRUMENTS = {
    "export_control": _l("Export control"),  # 輸出管理
    "technology_management": _l("Technology management"),  # 技術管理
    "investment_screening": _l("Investment screening"),  # 投資管理
    "data_security": _l("Data security"),  # データセキュリティ
    "cybersecurity": _l("Cybersecurity"),  # サイバーセキュリティ
    "rd": _l("Research and development"),  # 研究開発
    "talent": _l("Talent"),  # 産業人材
    "infrastructure": _l("Infrastructure"),  # 産業インフラ
    "finance": _l("Finance"),  # ファイナンス
    "budget_tax": _l("Budget and tax"),  # 予算・税制
    "international": _l("International cooperation"),  # 国際連携
    "dialogue": _l("Public–private dialogue"),  # 官民対話
}

SOURCES = {
    "dialogue": _l("Raised in a dialogue"),  # 対話での発言
    "company": _l("Sent by a company"),  # 企業からの投稿
    "anonymous": _l("Anonymous consultation"),  # 匿名相談
}

KINDS = {
    "request": _l("Request"),  # 要望
    "opinion": _l("Opinion"),  # 意見
}

#: received → under review → reflected in policy → answered (an answer may also come straight from review).
STATUSES = {
    "received": _l("Received"),  # 受付
    "under_review": _l("Under review"),  # 検討中
    "reflected": _l("Reflected in policy"),  # 政策に反映
    "answered": _l("Answered"),  # 回答済み
}
STATUS_ORDER = tuple(STATUSES)

#: allowed status moves; "answered" is reached only by giving an answer.
TRANSITIONS = {
    "received": frozenset({"under_review"}),
    "under_review": frozenset({"reflected", "received"}),
    "reflected": frozenset({"under_review"}),
    "answered": frozenset(),
}


def subtopics_of(category: str) -> list[Subtopic]:
    return [s for s in SUBTOPICS.values() if s.category == category]


def subtopic_label(code: str) -> str:
    s = SUBTOPICS.get(code)
    return str(s.label) if s else code
