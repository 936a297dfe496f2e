"""On-disk cache of synthesized audio, shared by every process on the machine.

A file's name is a hash of everything that shapes its sound (text, voice,
rate, engine version, output format), so a name never changes meaning and
can be served with a year-long cache lifetime. Writes are atomic (temporary
file + rename) and a per-key file lock stops several gunicorn workers from
synthesizing the same text at once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

FORMAT_VERSION = "wav-8k-mono-pcm16-loudness22-trimmed-v2"
KEY_CHARS = 40
NAME_RE = re.compile(rf"^[0-9a-f]{{{KEY_CHARS}}}\.wav$")
LOCK_POLL_SECONDS = 0.05  # a bounded wait for a key's lock retries this often


def cache_key(text: str, voice: str, rate: int, engine: str) -> str:
    """Hex key of one utterance; any change in its inputs gives a new key."""
    material = json.dumps([FORMAT_VERSION, engine, voice, int(rate), text], ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:KEY_CHARS]


class AudioCache:
    """Files `<key>.wav` in one directory."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def path(self, key: str) -> Path:
        name = f"{key}.wav"
        if not NAME_RE.match(name):
            raise ValueError(f"not a cache key: {key!r}")
        return self.directory / name

    def lookup(self, name: str) -> Path | None:
        """The file for a request path component, or None (also for anything not a key)."""
        if not NAME_RE.match(name):
            return None
        path = self.directory / name
        return path if path.is_file() else None

    def get(self, key: str) -> Path | None:
        path = self.path(key)
        return path if path.is_file() else None

    def unwritable(self) -> str | None:
        """Why no prompt can be stored here, or None (the directory is made if missing)."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return f"{self.directory} cannot be created: {exc.strerror or exc}"
        if not os.access(self.directory, os.W_OK | os.X_OK):
            return f"{self.directory} is not writable"
        return None

    def put(self, key: str, data: bytes) -> Path:
        """Store atomically: readers see the old state or the whole new file."""
        path = self.path(key)
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".wav")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @contextlib.contextmanager
    def locked(self, key: str, wait: float | None = None) -> Iterator[None]:
        """Hold an exclusive, cross-process lock on one key; TimeoutError after `wait` s.

        A webhook must not wait for whoever holds it: that may be a hung engine."""
        locks = self.directory / ".locks"
        locks.mkdir(parents=True, exist_ok=True)
        with open(locks / f"{key}.lock", "a") as handle:
            _lock(handle, wait)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _lock(handle, wait: float | None) -> None:
    if wait is None:
        fcntl.flock(handle, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"being synthesized elsewhere for more than {wait:g}s") from None
            time.sleep(LOCK_POLL_SECONDS)
