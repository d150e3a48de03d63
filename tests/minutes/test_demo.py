"""The demo data gives every page and report of this area real content on first start."""

from __future__ import annotations

from sqlalchemy import func, select

from clearance.db import db
from dialogue.demo.seed import seed
from dialogue.feedback.models import FeedbackItem, PolicyMeasure, feedback_measure, feedback_sector
from dialogue.feedback.taxonomy import CATEGORIES
from dialogue.minutes.models import STATUSES, Minutes, MinutesAddendum, MinutesCorrection
from dialogue.registry.models import Company
from dialogue.registry.taxonomy import SECTORS


def test_demo_minutes_and_feedback_cover_every_stage_category_sector_and_region(app, tmp_path):
    with app.app_context():
        seed(db.session, app.config, tmp_path / "demo.json", if_empty=False)
        stages = set(db.session.execute(select(Minutes.status)).scalars())
        assert stages == set(STATUSES)
        assert db.session.execute(select(func.count()).select_from(Minutes).where(Minutes.level > 0)).scalar_one() >= 2
        assert db.session.execute(select(func.count()).select_from(MinutesCorrection)).scalar_one() >= 1
        assert db.session.execute(select(func.count()).select_from(MinutesAddendum)).scalar_one() >= 1
        items = db.session.execute(select(func.count()).select_from(FeedbackItem)).scalar_one()
        assert items >= 300
        assert set(db.session.execute(select(FeedbackItem.category).distinct()).scalars()) == set(CATEGORIES)
        assert set(db.session.execute(select(feedback_sector.c.sector).distinct()).scalars()) == set(SECTORS)
        regions = set(db.session.execute(select(Company.region).distinct()).scalars())
        assert set(db.session.execute(select(FeedbackItem.region).distinct()).scalars()) >= regions
        assert {"company", "dialogue", "anonymous"} == set(db.session.execute(
            select(FeedbackItem.source).distinct()).scalars())
        assert db.session.execute(select(func.count()).select_from(FeedbackItem)
                                  .where(FeedbackItem.status == "answered")).scalar_one() > 50
        assert db.session.execute(select(func.count()).select_from(PolicyMeasure)).scalar_one() >= 5
        assert db.session.execute(select(func.count()).select_from(feedback_measure)).scalar_one() > 20
        assert db.session.execute(select(FeedbackItem).where(FeedbackItem.minutes_id.is_not(None))).first()
