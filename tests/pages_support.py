"""Realistic ticket data for page tests (SQLite, PostgreSQL and the browser test)."""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path

from accounts_support import make_user
from sqlalchemy import select

from core.db import get_db
from tickets import seed, service
from tickets.models import Department, Ticket

SPOKEN = "您好，我家小区的暖气一直不热，屋里只有十五度，麻烦尽快派人来看看。"


def espeak_wav(path: Path, text: str = SPOKEN) -> Path:
    """A real spoken WAV (espeak-ng, Mandarin voice)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["espeak-ng", "-v", "cmn", "-s", "150", "-w", str(path), text],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path


def populate(app, recordings_dir: Path | None = None) -> dict:
    """Seed taxonomy, users and tickets in every state (64 in all); return their numbers."""
    with app.app_context(), get_db(app).session() as s:
        seed.seed(s)
        depts = {d.code: d for d in s.scalars(select(Department))}
        today = service.local_today()
        made = {}
        specs = [
            (
                "heat",
                "phone",
                "complaint",
                "heating",
                "东营区",
                "暖气不热，室温只有15度",
                "housing",
            ),
            (
                "noise",
                "web",
                "complaint",
                "noise",
                "河口区",
                "夜间施工噪音扰民",
                "ecology_environment",
            ),
            (
                "fund",
                "wechat",
                "consultation",
                "housing_fund",
                "垦利区",
                "公积金提取需要什么材料",
                None,
            ),
            ("pork", "phone", "consultation", "commerce", "东营区", "储备肉投放时间", "commerce"),
            (
                "xss",
                "web",
                "suggestion",
                "other",
                None,
                "<script>alert('x')</script>建议增加公交",
                None,
            ),
            ("vm", "voice_message", None, None, None, None, None),
        ]
        for key, channel, demand, topic, district, text, dept in specs:
            t = service.create_ticket(
                s,
                channel=channel,
                caller_number="13812345678",
                description=text,
                demand_type=demand,
                topic=topic,
                district=district,
                actor="agent1",
            )
            if dept:
                service.route(s, t, actor="agent1", department_code=dept)
            made[key] = t
        service.attach_transcript(s, made["heat"].id, text=SPOKEN, confidence=0.82, words=[])
        service.resolve(s, made["pork"], reply="储备肉将于本周六在各超市投放。", actor="commerce1")
        service.record_satisfaction(s, made["pork"].id, result="satisfied", comment=None)
        for days_ago in (370, 371, 372):  # last year's tickets: the report's growth baseline
            old = service.create_ticket(
                s,
                channel="phone",
                caller_number=None,
                description="去年的咨询",
                demand_type="consultation",
                topic="utilities",
                actor="agent1",
            )
            old.opened_on = today - timedelta(days=days_ago)
        # An overdue one: opened long ago, still open.
        made["heat"].due_date = today - timedelta(days=2)
        if recordings_dir is not None:
            espeak_wav(recordings_dir / "calls" / "heat.wav")
            made["heat"].recording_path = "calls/heat.wav"
            made["vm"].recording_url = "http://nowhere.invalid/rec/RE1"  # not allowed to fetch
        for _ in range(55):  # enough for a second page
            service.create_ticket(
                s,
                channel="phone",
                caller_number=None,
                description="咨询社保卡补办",
                demand_type="consultation",
                topic="social_security",
                district="利津县",
                actor="agent1",
            )
        s.flush()
        numbers = {k: t.number for k, t in made.items()}
        housing, ecology = depts["housing"].id, depts["ecology_environment"].id
    make_user(app, "boss", "supervisor", display_name="王班长")
    make_user(app, "agent1", "agent", display_name="李话务")
    make_user(app, "housing1", "department", department_id=housing, display_name="住建局")
    make_user(app, "ecology1", "department", department_id=ecology)
    return numbers


def ticket_count(app) -> int:
    from sqlalchemy import func

    with app.app_context(), get_db(app).session() as s:
        return s.scalar(select(func.count(Ticket.id)))
