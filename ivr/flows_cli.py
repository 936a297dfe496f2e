"""`flask flows check [PATH]`: validate a flow file, print every error, exit non-zero;
`flask flows prompts [PATH]`: fill the prompt audio cache before calls arrive."""

from __future__ import annotations

import re
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from core import calendar
from core.db import get_db
from ivr.flows import FlowError, load_flow, policy
from ivr.flows.model import KbNode, Prompt
from ivr.notices import active_notices
from ivr.services import clock
from speech.checks import check_prompts
from tickets.kb_edit import spoken_answer
from tickets.models import Article

flows_cli = AppGroup("flows", help="Flow definitions (flows.yaml).")


@flows_cli.command("check")
@click.argument("path", required=False)
def check(path: str | None) -> None:
    """Validate PATH (default FLOWS_PATH); print each error as file:line path: message."""
    path = path or current_app.config["FLOWS_PATH"]
    try:
        flow = load_flow(path)
        issues = policy.issues(flow, current_app.config)
        if issues:
            raise FlowError(issues)
    except FlowError as exc:
        for issue in exc.errors:
            click.echo(str(issue), err=True)
        click.echo(f"{len(exc.errors)} error(s) in {path}", err=True)
        raise SystemExit(1) from None
    entries = (
        ", outgoing calls: " + ", ".join(f"{k} → {v}" for k, v in flow.entries.items())
        if flow.entries
        else ""
    )
    click.echo(
        f"{path}: ok — flow '{flow.name}', {len(flow.nodes)} nodes, version {flow.version}"
        + entries
    )
    items = prompt_texts(flow, Path(path).name) + spoken_content(current_app)
    warnings = check_prompts(items, current_app)
    for warning in warnings:
        click.echo(f"warning: {warning}")
    if warnings:
        click.echo(f"{len(warnings)} pronunciation warning(s): check with `flask speech pronounce`")


@flows_cli.command("prompts")
@click.argument("path", required=False)
def prompts(path: str | None) -> None:
    """Synthesize every fixed prompt of PATH (default FLOWS_PATH) into the audio cache.

    Run before the web processes start (scripts/run does): the first callers then hear
    cached audio instead of waiting for synthesis, and the web workers spend no CPU on it.
    Prompts with per-call values ({ticket}, {topic}) are made when a call needs them.
    """
    path = path or current_app.config["FLOWS_PATH"]
    try:
        flow = load_flow(path)
    except FlowError as exc:
        for issue in exc.errors:
            click.echo(str(issue), err=True)
        raise SystemExit(1) from None
    audio = current_app.extensions["speech_prompts"]
    texts = flow.texts() + spoken_answers(current_app, flow)
    ready = sum(1 for text, language in texts if audio.ensure(text, language))
    click.echo(
        f"prompt audio: {ready} of {len(texts)} prompts of {Path(path).name} cached"
        " (knowledge-base answers and active notices included)"
    )
    if ready < len(texts):
        click.echo("the rest will be spoken with <Say> until synthesis works (see the log)")


def spoken_answers(app, flow) -> list[tuple[str, str]]:
    """(text, language) of the knowledge-base answers the flow's `kb` nodes read and of
    the active notices; empty when the database cannot be read (not set up yet)."""
    today = calendar.local_now(app.config["HOTLINE_TIMEZONE"], clock(app)).date()
    try:
        with get_db(app).session() as s:
            out = [
                (answer, flow.default_language)
                for node in flow.nodes.values()
                if isinstance(node, KbNode) and (answer := spoken_answer(s, node.article, today))
            ]
            out += [(n.text, n.language) for n in active_notices(s)]
    except SQLAlchemyError:
        return []
    return list(dict.fromkeys(out))


def spoken_content(app) -> list[tuple[str, str]]:
    """(where, text) of what callers hear besides the flow: knowledge-base answers in use
    and active notices. Empty when the database cannot be read (not set up yet)."""
    try:
        with get_db(app).session() as s:
            articles = s.scalars(select(Article).where(Article.retired_at.is_(None))).all()
            items = [(f"kb {a.key}", a.answer) for a in articles]
            items += [
                (f"notice {n.id}", n.text)
                for n in active_notices(s)
                if n.language.lower().startswith(("zh", "cmn"))
            ]
            return items
    except SQLAlchemyError:
        return []


def prompt_texts(flow, file: str, values: dict | None = None) -> list[tuple[str, str]]:
    """(where, text) of every Mandarin prompt of `flow`, for the pronunciation check.

    Placeholders ({topic}, {reply}) are filled from `values`, others with a digit.
    """
    items: list[tuple[str, str]] = []
    values = values or {}

    def fill(m: re.Match) -> str:
        return values.get(m.group(1), "2")

    def add(where: str, prompt) -> None:
        for language, text in prompt.say.items():
            if language.lower().startswith(("zh", "cmn")):
                items.append((where, re.sub(r"\{(\w*)\}", fill, text)))

    for key, prompt in flow.messages.items():
        add(f"{file} messages.{key}", prompt)
    for node in flow.nodes.values():
        where = f"{file}:{node.line} nodes.{node.id}" if node.line else f"{file} nodes.{node.id}"
        for value in vars(node).values():
            for prompt in value if isinstance(value, tuple) else (value,):
                if isinstance(prompt, Prompt):
                    add(where, prompt)
    return items


def init_app(app) -> None:
    app.cli.add_command(flows_cli)
