"""Prompt audio: synthesize once, cache on disk, serve at a stable URL with cache headers."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from core.db import get_db
from ivr.flows import load_flow
from speech import tts
from speech.audio import decode_wav
from speech.prompts import Prompts
from tickets.models import Article


@pytest.fixture(scope="module")
def synth():
    synthesizer = tts.Synthesizer()
    yield synthesizer
    synthesizer.close()


@pytest.fixture
def prompts_app(make_app, synth, tmp_path):
    app = make_app(AUDIO_DIR=str(tmp_path / "audio"))  # its own cache: these tests count files
    prompts = app.extensions["speech_prompts"]
    prompts._synth = synth
    return app, prompts


def test_audio_url_serves_a_cached_twilio_wav(prompts_app):
    app, prompts = prompts_app
    url = app.extensions["prompt_audio"]("您好，欢迎致电12345热线", "zh-CN")
    assert url.startswith("http://hotline.test/audio/") and url.endswith(".wav")
    client = app.test_client()
    response = client.get(url.removeprefix("http://hotline.test"))
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert decode_wav(response.data).rate == 8000
    assert "immutable" in response.headers["Cache-Control"]
    assert "max-age=31536000" in response.headers["Cache-Control"]
    again = client.get(
        url.removeprefix("http://hotline.test"), headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304
    response.close()
    again.close()


def test_same_text_same_url_and_no_second_synthesis(prompts_app):
    app, prompts = prompts_app
    first = prompts.audio_url("请说出您的工单号", "zh-CN")
    path = prompts.cache.lookup(first.rsplit("/", 1)[1])
    mtime = path.stat().st_mtime_ns
    assert prompts.audio_url("请说出您的工单号", "zh-CN") == first
    assert path.stat().st_mtime_ns == mtime
    assert prompts.audio_url("  请说出您的工单号\n", "zh-CN") == first  # outer whitespace ignored
    assert prompts.audio_url("请说出您的工单号。", "zh-CN") != first


def test_key_depends_on_voice_rate_and_engine(prompts_app, monkeypatch):
    _, prompts = prompts_app
    base = prompts.key("你好", "zh-CN")
    prompts.rate += 10
    assert prompts.key("你好", "zh-CN") != base
    prompts.rate -= 10
    assert prompts.key("你好", "zh-CN") == base
    assert prompts.key("你好", "en-US") != base
    monkeypatch.setattr(tts, "engine_version", lambda: "pyttsx3-9.9/espeak-ng 9")
    assert prompts.key("你好", "zh-CN") != base


@pytest.mark.parametrize(
    "path",
    [
        "/audio/../hotline.db",
        "/audio/..%2fsecret-key",
        "/audio/" + "0" * 40 + ".wav",
        "/audio/ABC.wav",
        "/audio/.locks",
    ],
)
def test_only_cache_keys_are_served(prompts_app, path):
    app, _ = prompts_app
    assert app.test_client().get(path).status_code == 404


def test_failure_means_say_fallback(make_app, synth, caplog):
    app = make_app(TTS_VOICE="no-such-voice")
    app.extensions["speech_prompts"]._synth = synth
    assert app.extensions["prompt_audio"]("你好", "zh-CN") is None
    assert "TTS failed" in caplog.text
    assert app.extensions["prompt_audio"]("hello", "tlh") is None  # no voice for Klingon


def test_presynthesize_fills_the_cache(prompts_app):
    app, prompts = prompts_app
    texts = [
        ("欢迎致电", "zh-CN"),
        ("普通话请按1", "zh-CN"),
        ("Press 2 for English", "en-US"),
        ("欢迎致电", "zh-CN"),
        ("", "zh-CN"),
    ]
    assert app.extensions["prompt_presynthesize"](texts) is None  # nothing asked for audio yet
    assert not any(prompts.cache.directory.glob("*.wav"))
    thread = prompts._start_background()  # what the first audio_url() of a call does
    thread.join(timeout=60)
    keys = {prompts.key(t, lang) for t, lang in texts if t}
    assert len(keys) == 3 and all(prompts.cache.get(k) for k in keys)


def test_two_workers_share_one_file(tmp_path, synth):
    config = {
        "AUDIO_DIR": str(tmp_path / "audio"),
        "PUBLIC_BASE_URL": "http://h",
        "TTS_VOICE": "cmn",
        "TTS_RATE": "165",
    }
    others = [tts.Synthesizer(), tts.Synthesizer()]
    try:
        workers = [Prompts(config, s) for s in others]
        urls = []
        threads = [
            threading.Thread(target=lambda p=p: urls.append(p.audio_url("同时", "zh-CN")))
            for p in workers
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for s in others:
            s.close()
    assert len(set(urls)) == 1 and urls[0]
    assert [p.name for p in (tmp_path / "audio").glob("*.wav")] == [urls[0].rsplit("/", 1)[1]]


def test_flows_prompts_fills_the_cache_before_the_first_caller(make_app, tmp_path):
    flow = tmp_path / "flows.yaml"
    flow.write_text(
        "flow:\n  name: 小热线\n  start: hello\nnodes:\n"
        "  hello:\n    kind: prompt\n    say: 您好，这里是政务服务热线。\n    next: heating\n"
        "  heating:\n    kind: kb\n    article: heating-season\n    next: bye\n"
        "  bye:\n    kind: hangup\n    say: 感谢您的来电，再见。\n",
        encoding="utf-8",
    )
    app = make_app(AUDIO_DIR=str(tmp_path / "audio"), FLOWS_PATH=str(flow))
    prompts = app.extensions["speech_prompts"]
    app.test_cli_runner().invoke(args=["tickets", "seed"])  # the knowledge base
    with app.app_context(), get_db().session() as s:
        answer = s.scalar(select(Article.answer).where(Article.key == "heating-season"))
    # the nodes' prompts, the built-in messages and the answer the kb node reads
    texts = [*load_flow(flow).texts(), (answer, "zh-CN")]
    assert ("您好，这里是政务服务热线。", "zh-CN") in texts
    assert all(prompts.cache.get(prompts.key(t, lang)) is None for t, lang in texts)

    result = app.test_cli_runner().invoke(args=["flows", "prompts"])

    assert result.exit_code == 0, result.output
    assert f"{len(texts)} of {len(texts)} prompts of flows.yaml cached" in result.output
    for text, language in texts:
        assert decode_wav(prompts.cache.get(prompts.key(text, language)).read_bytes()).rate == 8000


def test_flows_prompts_names_the_error_of_a_broken_flow(make_app, tmp_path):
    flow = tmp_path / "flows.yaml"
    flow.write_text("flow:\n  name: x\n  start: nowhere\nnodes: {}\n", encoding="utf-8")
    app = make_app(AUDIO_DIR=str(tmp_path / "audio"))
    result = app.test_cli_runner().invoke(args=["flows", "prompts", str(flow)])
    assert result.exit_code == 1
    assert "flows.yaml" in result.output and "Traceback" not in result.output
