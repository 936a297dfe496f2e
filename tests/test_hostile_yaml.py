"""Hostile YAML: alias bombs, tags, deep nesting and oversized files, wherever YAML is read.

Every reader goes through core.safeyaml: the flow reader (flows.yaml, studio drafts,
`flask flows check`), the studio's prompt editor and the tickets package's editable
files (rules, routing, taxonomy, knowledge base). A refusal is a file:line message,
never a traceback, never seconds of CPU, and never a worker that fails to boot.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from accounts_support import csrf_token, login, make_user
from test_hostile_webhooks import DIAL_FLOW

from core import safeyaml
from core.config import ROOT
from ivr.flows import FlowSyntaxError, load_flow, load_text
from tickets import classify, routing
from tickets.yamlfile import ConfigFileError, load_yaml

SHIPPED = ROOT / "flows.yaml"


def alias_bomb(levels: int = 9) -> str:
    """The 'billion laughs': each level repeats the one before nine times (9**levels)."""
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


# The three tags the outside review used, and where each appears on its line.
TAGGED = {
    "omap": "!!omap [ {a: 1} ]",
    "local": "!x [a]",
    "python": "!!python/object/apply:os.system ['true']",
}


def flow_with(value: str, key: str = "say") -> str:
    """The shipped flow with `value` as the greeting's prompt (line of the greeting's `say`)."""
    text = SHIPPED.read_text(encoding="utf-8")
    start = text.index("\n  greeting:")
    say = text.index("say:", start)
    end = text.index("\n", say)
    return text[:say] + f"{key}: " + value + text[end:]


def say_line(text: str) -> int:
    return text[: text.index("say:", text.index("\n  greeting:"))].count("\n") + 1


def test_alias_bomb_is_refused_at_once_with_its_line():
    text = alias_bomb()
    assert len(text) < 450
    started = time.perf_counter()
    with pytest.raises(FlowSyntaxError) as caught:
        load_text(text)
    assert time.perf_counter() - started < 0.5
    issue = caught.value.errors[0]
    assert (issue.line, issue.code) == (1, "yaml_unsafe")
    assert str(issue) == "flows.yaml:1: anchor '&a0' not allowed: write the value out"


def test_alias_without_anchor_in_flow_is_refused():
    text = flow_with("*greeting_text")
    with pytest.raises(FlowSyntaxError) as caught:
        load_text(text)
    assert caught.value.errors[0].line == say_line(text)
    assert "alias '*greeting_text' not allowed" in caught.value.errors[0].message


@pytest.mark.parametrize("name", sorted(TAGGED))
def test_tags_are_refused_with_file_and_line(name):
    text = flow_with(TAGGED[name])
    with pytest.raises(FlowSyntaxError) as caught:
        load_text(text)
    issue = caught.value.errors[0]
    assert issue.line == say_line(text)
    assert issue.message.startswith("tag '!") and "not allowed" in issue.message


def test_explicit_string_tag_is_refused_too():
    """Even harmless-looking tags: the files hold plain values, nothing asks for a tag."""
    with pytest.raises(safeyaml.YAMLRefused, match=r"x.yaml:2: tag '!!str'"):
        safeyaml.load("a: 1\nb: !!str 2\n", "x.yaml")


def test_deep_nesting_is_refused_not_a_recursion_error():
    text = "a: " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(FlowSyntaxError) as caught:
        load_text(text)
    assert caught.value.errors[0].code == "yaml_depth"


def test_oversized_text_and_file_are_refused(tmp_path):
    big = "# padding\n" * (safeyaml.MAX_BYTES // 10 + 1)
    with pytest.raises(FlowSyntaxError) as caught:
        load_text(big)
    assert caught.value.errors[0].code == "yaml_size"
    path = tmp_path / "flows.yaml"
    path.write_text(big)
    with pytest.raises(FlowSyntaxError) as caught:
        load_flow(path)
    assert "at most" in str(caught.value)


def test_flow_file_that_is_not_utf8_is_an_error_not_a_traceback(tmp_path):
    path = tmp_path / "flows.yaml"
    path.write_bytes(SHIPPED.read_text(encoding="utf-8").encode("gbk"))
    with pytest.raises(FlowSyntaxError, match="not UTF-8"):
        load_flow(path)


@pytest.mark.parametrize("name", sorted(TAGGED) + ["bomb"])
def test_flows_check_prints_file_line_never_a_traceback(make_app, tmp_path, name):
    path = tmp_path / "flows.yaml"
    text = alias_bomb() if name == "bomb" else flow_with(TAGGED[name])
    path.write_text(text, encoding="utf-8")
    runner = make_app().test_cli_runner()
    result = runner.invoke(args=["flows", "check", str(path)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    line = 1 if name == "bomb" else say_line(text)
    assert f"flows.yaml:{line}: " in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("name", sorted(TAGGED))
def test_a_tagged_flows_file_does_not_stop_the_app_from_booting(make_app, tmp_path, name):
    """gunicorn imports the app in every worker: a bad flows.yaml must not crash the import."""
    path = tmp_path / "flows.yaml"
    path.write_text(flow_with(TAGGED[name]), encoding="utf-8")
    app = make_app(FLOWS_PATH=str(path))
    health = app.test_client().get("/healthz")
    assert health.status_code == 503  # degraded: no flow, said plainly
    assert "Traceback" not in health.get_data(as_text=True)


@pytest.fixture
def studio(make_app, tmp_path):
    path = tmp_path / "flows.yaml"
    shutil.copy(SHIPPED, path)
    app = make_app(FLOWS_PATH=str(path))
    make_user(app, "lead", "supervisor")
    client = app.test_client()
    login(client, "lead")
    client.get("/studio/")
    return client, {"X-CSRFToken": csrf_token(client, "/studio/")}


def test_alias_bomb_on_the_studio_is_refused_fast_and_its_draft_page_stays_fast(studio):
    client, csrf = studio
    bomb = alias_bomb()
    started = time.perf_counter()
    data = client.post("/studio/validate", json={"text": bomb}, headers=csrf).get_json()
    assert time.perf_counter() - started < 1.0
    assert data["ok"] is False
    assert data["issues"][0]["text"].startswith("flows.yaml:1: anchor '&a0' not allowed")
    # A refused publish keeps the text as the draft; every studio visit re-reads it.
    token = csrf["X-CSRFToken"]
    form = {"text": bomb, "message": "m", "base_revision_id": "1", "csrf_token": token}
    client.post("/studio/publish", data=form)
    started = time.perf_counter()
    page = client.get("/studio/")
    assert time.perf_counter() - started < 2.0
    assert page.status_code == 200
    assert "not allowed" in page.get_data(as_text=True)


def test_prompt_editor_refuses_aliases_and_tags(studio):
    client, csrf = studio
    for text in (alias_bomb(), flow_with(TAGGED["python"])):
        r = client.post(
            "/studio/prompt", json={"text": text, "node": "greeting", "say": "您好"}, headers=csrf
        )
        assert r.status_code == 422
        assert "not allowed" in r.get_json()["error"]


@pytest.mark.parametrize("name", ["rules.yaml", "routing.yaml", "kb.yaml", "taxonomy.yaml"])
@pytest.mark.parametrize("attack", ["bomb", "tag"])
def test_tickets_yaml_files_refuse_aliases_and_tags(tmp_path, name, attack):
    path = tmp_path / name
    text = alias_bomb() if attack == "bomb" else f"x: 1\ny: {TAGGED['python']}\n"
    path.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(ConfigFileError) as caught:
        load_yaml(path)
    assert time.perf_counter() - started < 0.5
    assert str(caught.value).startswith(f"{path}:{1 if attack == 'bomb' else 2}: ")


def test_classifier_and_routing_with_a_tagged_file_report_it(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(f"rules: {TAGGED['omap']}\n", encoding="utf-8")
    with pytest.raises(ConfigFileError, match="not allowed"):
        classify.load_rules(path)
    path = tmp_path / "routing.yaml"
    path.write_text(f"routes: {TAGGED['local']}\n", encoding="utf-8")
    with pytest.raises(ConfigFileError, match="not allowed"):
        routing.load_routing(path)


def test_shipped_yaml_files_all_pass_the_safe_loader():
    shipped = [SHIPPED, ROOT / "examples" / "classic_menu.yaml"]
    shipped += sorted((ROOT / "tickets").rglob("*.yaml")) + sorted(ROOT.glob("speech/*.yaml"))
    for path in shipped:
        assert isinstance(safeyaml.load_file(Path(path)), dict), path


@pytest.mark.parametrize(
    "body",
    [
        {"json": ["text", "flow: {}"]},
        {"json": "flow: {}"},
        {"json": 12},
        {"data": "{not json", "content_type": "application/json"},
    ],
)
def test_studio_json_routes_answer_400_to_a_body_that_is_not_an_object(studio, body):
    client, csrf = studio
    for path in ("/studio/validate", "/studio/prompt", "/studio/draft"):
        r = client.post(path, headers=csrf, **body)
        assert r.status_code == 400, (path, r.status_code)


def test_studio_draft_saved_from_a_form_post(studio):
    client, csrf = studio
    text = SHIPPED.read_text(encoding="utf-8")
    form = {"text": text, "base_revision_id": "1", "csrf_token": csrf["X-CSRFToken"]}
    assert client.post("/studio/draft", data=form).status_code == 200
    form["base_revision_id"] = "1; DROP TABLE flow_drafts"
    assert client.post("/studio/draft", data=form).status_code == 400


@pytest.mark.parametrize("target", ["+19005550100", "sip:anyone@elsewhere.example"])
def test_flows_check_and_the_studio_refuse_dial_targets_outside_the_allow_list(
    make_app, tmp_path, target
):
    text = DIAL_FLOW.format(target=target)
    line = text.splitlines().index("  out:") + 1
    path = tmp_path / "flows.yaml"
    path.write_text(text, encoding="utf-8")
    app = make_app(FLOWS_PATH=str(path))
    result = app.test_cli_runner().invoke(args=["flows", "check", str(path)])
    assert result.exit_code == 1
    assert f"flows.yaml:{line} nodes.out.dial: " in result.output
    assert "not in DIAL_ALLOWED (+86)" in result.output
    assert "Traceback" not in result.output
    make_user(app, "lead", "supervisor")
    client = app.test_client()
    login(client, "lead")
    client.get("/studio/")
    token = csrf_token(client, "/studio/")
    data = client.post("/studio/validate", json={"text": text}, headers={"X-CSRFToken": token})
    assert data.get_json()["issues"][0]["code"] == "dial_refused"
    shipped = SHIPPED.read_text(encoding="utf-8")
    path.write_text(shipped, encoding="utf-8")
    form = {"text": text, "message": "m", "csrf_token": token}
    client.post("/studio/publish", data=form)
    assert path.read_text(encoding="utf-8") == shipped  # not published


@pytest.mark.parametrize("attack", ["bomb", "tag"])
def test_pronunciation_lexicon_refuses_aliases_and_tags(attack):
    from speech.lexicon import LexiconError, parse

    text = alias_bomb() if attack == "bomb" else f"热线: {TAGGED['python']}\n"
    started = time.perf_counter()
    with pytest.raises(LexiconError) as caught:
        parse(text, "lexicon.yaml")
    assert time.perf_counter() - started < 0.5
    assert str(caught.value).startswith("lexicon.yaml:1: ") and "not allowed" in str(caught.value)


def test_prompt_audio_from_a_listed_origin_passes_the_check(make_app, tmp_path):
    text = flow_with('"https://cdn.hotline.example/greeting.wav"', key="audio")
    path = tmp_path / "flows.yaml"
    path.write_text(text, encoding="utf-8")
    refused = make_app().test_cli_runner().invoke(args=["flows", "check", str(path)])
    assert refused.exit_code == 1
    assert "audio from https://cdn.hotline.example is not in PROMPT_AUDIO_ORIGINS" in (
        refused.output
    )
    app = make_app(PROMPT_AUDIO_ORIGINS="https://cdn.hotline.example")
    assert app.test_cli_runner().invoke(args=["flows", "check", str(path)]).exit_code == 0
