"""Imported call history: one row per half hour, for lines that kept records before."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, utcnow


class HistorySlot(Base):
    """Calls in one half hour from an older system (`flask planning import`).

    Imported rows win over the service's own call records for the same half hour, so a
    line can load its previous years once and keep forecasting as its own records grow.
    """

    __tablename__ = "planning_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slot_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), unique=True)
    offered: Mapped[int] = mapped_column(Integer)
    answered: Mapped[int | None] = mapped_column(Integer)
    abandoned: Mapped[int | None] = mapped_column(Integer)
    answered_within_target: Mapped[int | None] = mapped_column(Integer)
    handle_seconds: Mapped[float | None] = mapped_column(Float)  # average per answered call
    surge: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(64), default="import")
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
