"""Downloading an official Vosk model: progress bar, pinned SHA-256, atomic unpack.

Models come from alphacephei's site as zips with one top-level directory.
The zip is checked against a pinned SHA-256 before anything is unpacked; it
is unpacked next to the destination and moved into place with one rename,
so a crash never leaves a half model where the worker looks for one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

import requests
from tqdm import tqdm

from speech.asr import files_status
from speech.errors import SpeechError

MODELS_URL = "https://alphacephei.com/vosk/models"
DEFAULT_MODEL = "vosk-model-small-cn-0.22"
# Pinned checksums of model zips. No published SHA-256 of vosk-model-small-cn-0.22 could be
# found from this machine (no internet), so none is invented here: set VOSK_MODEL_SHA256
# (or --sha256) to the value you verified, or --allow-unpinned to accept and print it.
KNOWN_SHA256: dict[str, str] = {}
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 60
CHUNK = 1024 * 1024


class DownloadError(SpeechError):
    """The model could not be downloaded, verified or unpacked."""


def model_url(name: str) -> str:
    return f"{MODELS_URL}/{name}.zip"


def offline_help(name: str, dest: Path) -> str:
    return (
        f"download {model_url(name)} on a machine with internet access, unzip it and "
        f"put its contents at {dest} (so that {dest / 'am' / 'final.mdl'} exists), "
        "or set VOSK_MODEL_PATH to where you unpacked it"
    )


def fetch_zip(
    url: str, target: Path, *, session: requests.Session | None = None, progress: bool = True
) -> str:
    """Stream `url` to `target` with a progress bar; return the SHA-256 of what was written."""
    http = session or requests.Session()
    digest = hashlib.sha256()
    try:
        with http.get(url, stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT)) as response:
            if response.status_code != 200:
                raise DownloadError(f"{url}: HTTP {response.status_code}")
            total = int(response.headers.get("Content-Length") or 0) or None
            with (
                open(target, "wb") as f,
                tqdm(
                    total=total,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    desc=url.rsplit("/", 1)[-1],
                    disable=not progress,
                ) as bar,
            ):
                for chunk in response.iter_content(CHUNK):
                    f.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
    finally:
        if session is None:
            http.close()
    return digest.hexdigest()


def unpack(zip_path: Path, dest: Path) -> None:
    """Unpack a model zip to `dest` atomically (temporary sibling directory + rename)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=dest.parent))
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for member in archive.namelist():
                parts = PurePosixPath(member).parts
                if member.startswith("/") or ".." in parts or "\\" in member:
                    raise DownloadError(f"unsafe path in model zip: {member!r}")
            archive.extractall(staging)
        entries = [p for p in staging.iterdir() if not p.name.startswith("__MACOSX")]
        root = entries[0] if len(entries) == 1 and entries[0].is_dir() else staging
        state, detail = files_status(root)
        if state != "present":
            raise DownloadError(f"the zip does not hold a Vosk model: {detail}")
        old = None
        if dest.exists():
            old = dest.with_name(f".old-{dest.name}-{staging.name}")
            dest.rename(old)
        root.rename(dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except zipfile.BadZipFile as exc:
        raise DownloadError(f"not a zip file: {exc}") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def download_model(
    name: str,
    dest: Path,
    *,
    sha256: str | None = None,
    allow_unpinned: bool = False,
    url: str | None = None,
    session: requests.Session | None = None,
    progress: bool = True,
) -> str:
    """Download, verify and unpack a model; return the zip's SHA-256."""
    url = url or model_url(name)
    expected = (sha256 or KNOWN_SHA256.get(name) or "").lower() or None
    if expected is None and not allow_unpinned:
        raise DownloadError(
            f"no pinned SHA-256 for {name}: set VOSK_MODEL_SHA256 or pass "
            "--sha256 with the checksum you trust, or --allow-unpinned to "
            "download anyway and print the checksum to pin. To install it by "
            "hand instead: " + offline_help(name, dest)
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".download-", suffix=".zip", dir=dest.parent)
    os.close(fd)
    zip_path = Path(tmp)
    try:
        try:
            actual = fetch_zip(url, zip_path, session=session, progress=progress)
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise DownloadError(
                f"cannot reach {url} ({type(exc).__name__}); " + offline_help(name, dest)
            ) from exc
        if expected is not None and actual != expected:
            raise DownloadError(f"SHA-256 mismatch for {url}: expected {expected}, got {actual}")
        unpack(zip_path, dest)
        return actual
    finally:
        zip_path.unlink(missing_ok=True)
