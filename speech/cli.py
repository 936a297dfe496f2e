"""`flask speech …`: the transcription worker, the backlog, the model download, pronunciation."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from tqdm import tqdm

from core.db import get_db
from core.stopping import StopOnSignal
from speech import asr, jobs, priority, pronounce
from speech.download import DEFAULT_MODEL, DownloadError, download_model
from speech.errors import ModelError, SpeechError
from speech.models import KIND_GRAMMAR
from speech.worker import Worker, run_threads

MODEL_RECHECK_SECONDS = 60

speech_cli = AppGroup(
    "speech", help="Offline speech: transcription worker, models and pronunciation."
)


def _load_model() -> asr.ModelHolder:
    """Load the model now (workers only) or exit with what to do about it."""
    model = asr.holder(current_app.config["VOSK_MODEL_PATH"])
    try:
        model.get()
    except ModelError as exc:
        raise click.ClickException(
            f"{exc}\nVoice messages keep their recordings and wait "
            "in the queue until a worker with a model runs."
        ) from exc
    return model


def _wait_for_model(stop: threading.Event, exit_without_model: bool) -> asr.ModelHolder | None:
    """The loaded model; without one, say what to do and look again every minute.

    Waiting (rather than exiting) keeps a supervisor such as scripts/run from taking the
    whole service down: calls and tickets work without a model, messages just queue.
    """
    told = False
    while not stop.is_set():
        try:
            return _load_model()
        except click.ClickException as exc:
            if exit_without_model:
                raise
            if not told:
                click.echo(
                    f"{exc.message}\nWaiting for the model (checking every "
                    f"{MODEL_RECHECK_SECONDS} s).",
                    err=True,
                )
                told = True
        stop.wait(MODEL_RECHECK_SECONDS)
    return None


@speech_cli.command("worker")
@click.option(
    "--threads",
    type=int,
    default=priority.default_decode_threads,
    show_default="cores - 1",
    help="Transcription threads sharing the one loaded model (at background priority).",
)
@click.option(
    "--grammar-threads",
    type=int,
    default=1,
    show_default=True,
    help="Extra threads that only take spoken menu answers, so a caller never "
    "waits behind long voice messages.",
)
@click.option(
    "--poll",
    type=float,
    default=0.5,
    show_default=True,
    help="Seconds between polls of an empty queue.",
)
@click.option(
    "--exit-without-model",
    is_flag=True,
    help="Fail at once when the model is missing instead of waiting for it.",
)
def worker_command(
    threads: int, grammar_threads: int, poll: float, exit_without_model: bool
) -> None:
    """Load the model once and process speech jobs until SIGTERM / Ctrl-C."""
    app = current_app._get_current_object()
    stopper = StopOnSignal()
    stop = stopper.event
    model = _wait_for_model(stop, exit_without_model)
    if model is None:
        stopper.exit_if_signalled()
        return
    db = get_db(app)
    click.echo(
        f"speech worker {jobs.worker_id()}: model {model.path} loaded, "
        f"{threads} thread(s) + {grammar_threads} for spoken answers"
    )
    workers = [
        Worker(db, app.config, model, worker=f"{jobs.worker_id()}:{i}") for i in range(threads)
    ]
    workers += [
        Worker(db, app.config, model, worker=f"{jobs.worker_id()}:g{i}", kinds=(KIND_GRAMMAR,))
        for i in range(grammar_threads)
    ]
    run_threads(workers, stop, poll)
    click.echo("speech worker stopped")
    stopper.exit_if_signalled()


@speech_cli.command("status")
def status_command() -> None:
    """Model state (from its files; nothing is loaded) and the job queue."""
    path = current_app.config["VOSK_MODEL_PATH"]
    state, detail = asr.files_status(path)
    click.echo(f"model: {state} ({detail})")
    with get_db().session() as s:
        counts = jobs.counts(s)
        due = jobs.due_count(s)
    click.echo(
        "jobs: "
        + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none")
        + f"; due now {due}"
    )


@speech_cli.command("transcribe-pending")
def transcribe_pending() -> None:
    """Work through every due job now (e.g. after installing a model), with a progress bar."""
    app = current_app._get_current_object()
    model = _load_model()
    db = get_db(app)
    with db.session() as s:
        total = jobs.due_count(s)
    worker = Worker(db, app.config, model)
    done = retry = failed = 0
    with tqdm(total=total, unit="job", desc="transcribing") as bar:
        for _ in range(total):
            outcome = worker.run_once()
            if outcome is None:
                break
            done += outcome.status == "done"
            retry += outcome.status == "retry"
            failed += outcome.status == "failed"
            bar.update(1)
    click.echo(f"{done} done, {retry} to retry later, {failed} failed")


@speech_cli.command("download-model")
@click.argument("name", default=DEFAULT_MODEL)
@click.option(
    "--dest",
    type=click.Path(path_type=Path),
    help="Where to unpack (default: VOSK_MODEL_PATH, or models/NAME for another model).",
)
@click.option("--sha256", help="Expected SHA-256 of the zip (default: VOSK_MODEL_SHA256).")
@click.option(
    "--allow-unpinned",
    is_flag=True,
    help="Accept a model without a pinned checksum and print its SHA-256.",
)
@click.option("--url", help="Download from this URL instead of alphacephei's models site.")
def download_command(
    name: str, dest: Path | None, sha256: str | None, allow_unpinned: bool, url: str | None
) -> None:
    """Download an official Vosk model zip, verify it and unpack it atomically."""
    configured = Path(current_app.config["VOSK_MODEL_PATH"])
    if dest is None:
        dest = configured if configured.name == name else configured.parent / name
    try:
        digest = download_model(
            name,
            dest,
            url=url,
            allow_unpinned=allow_unpinned,
            sha256=sha256 or current_app.config.get("VOSK_MODEL_SHA256"),
        )
    except DownloadError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{name} unpacked at {dest}\nSHA-256 of the zip: {digest}")
    if dest.resolve() != configured.resolve():
        click.echo(f"set VOSK_MODEL_PATH={dest} to use it")


@speech_cli.command("pronounce")
@click.argument("texts", nargs=-1)
@click.option(
    "--file",
    "source",
    type=click.File("r", encoding="utf-8"),
    help="Read the texts from this file, one a line ('-' for standard input).",
)
@click.option(
    "--phonemes",
    is_flag=True,
    help="Print espeak-ng's phoneme mnemonics (espeak-ng -x) of what the engine receives.",
)
def pronounce_command(texts: tuple[str, ...], source, phonemes: bool) -> None:
    """Print, for each TEXT, one line: the tone-numbered syllables the engine will say.

    Tones 1-4, 5 for the neutral tone, ü as v; punctuation omitted; an English sentence
    inside a prompt (said by the English voice) as its words. Check a prompt (or a
    lexicon edit) here before callers hear it.
    """
    if source is not None:
        texts = (*texts, *(line.rstrip("\r\n") for line in source))
    if not texts:
        raise click.UsageError("give one or more TEXTs or --file PATH")
    prompts = current_app.extensions["speech_prompts"]
    pronouncer = prompts.pronouncer
    pronouncer.lexicon()
    if pronouncer.error is not None:
        raise click.ClickException(str(pronouncer.error))
    voice = prompts.voice_for("zh-CN").voice
    for text in texts:
        if phonemes:
            try:
                click.echo(
                    " ".join(
                        pronounce.phonemes(
                            part.text, voice if part.language == "zh" else pronounce.ENGLISH_VOICE
                        )
                        for part in pronouncer.parts(text)
                    )
                )
            except SpeechError as exc:
                raise click.ClickException(str(exc)) from exc
        else:
            click.echo(" ".join(w for w in _syllables(pronouncer, text) if w))


def _syllables(pronouncer, text: str):
    """Tone-numbered syllables; an English sentence's words as they are (said in English)."""
    for language, stretch in pronounce.split_languages(text):
        if language == "zh":
            yield " ".join(pronouncer.read(stretch).pinyin)
        else:
            yield " ".join(re.findall(r"[A-Za-z0-9'-]+", stretch))
