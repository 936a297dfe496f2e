"""The pyttsx3 engine process (run as a script by speech.tts, never imported by the app).

Reads one JSON request per line on stdin ({"text", "voice", "rate", "path"}),
writes one JSON answer per line ({"ok": true} or {"ok": false, "error"}) on
the original stdout. pyttsx3's espeak driver print()s to stdout, so the
protocol keeps a private copy of fd 1 and the real fd 1 goes to /dev/null.
"""

from __future__ import annotations

import json
import os
import sys

ENGINE_TRIES = 2


def main() -> None:
    proto = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process

    import pyttsx3

    engine = pyttsx3.init("espeak")
    voices = {v.id: v for v in engine.getProperty("voices")}

    def resolve(name: str) -> str:
        base, plus, variant = name.partition("+")  # espeak-ng variants: "ko+f2"
        for vid, voice in voices.items():
            if base in (vid, vid.rsplit("/", 1)[-1], voice.name):
                return vid + plus + variant
        raise LookupError(f"no espeak-ng voice {name!r}")

    current: tuple | None = None
    for line in sys.stdin:
        try:
            request = json.loads(line)
            wanted = (resolve(request["voice"]), int(request["rate"]))
            if wanted != current:
                # Switching voice makes the next save_to_file write nothing now and then
                # (seen with 2.99); a throw-away short utterance absorbs that.
                engine.setProperty("voice", wanted[0])
                engine.setProperty("rate", wanted[1])
                scratch = request["path"] + ".warm.wav"
                engine.save_to_file("1", scratch)
                engine.runAndWait()
                if os.path.exists(scratch):
                    os.unlink(scratch)
                current = wanted
            for _ in range(ENGINE_TRIES):
                # The espeak driver sometimes finishes runAndWait() without writing the file
                # (reproduced with a long first text); one more go almost always writes it.
                engine.save_to_file(request["text"], request["path"])
                engine.runAndWait()
                if os.path.exists(request["path"]):
                    break
            answer = {"ok": True}
        except Exception as exc:  # reported to the parent, which decides
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        proto.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
