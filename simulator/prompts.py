"""What a <Play> says: the text behind a synthesized prompt's audio URL.

speech's Prompts names the cached WAV of every text by a content key;
inverting that over `Flow.texts()` lets the phone print the words rather than
a URL. Texts filled in at call time (ticket numbers) are not in the
index: the phone shows their URL.
"""

from __future__ import annotations

import logging

from ivr.flows import load_flow

log = logging.getLogger(__name__)


class PromptIndex:
    """Callable url -> text, built on first use from the published flow."""

    def __init__(self, app, flow=None, values: dict[str, str] | None = None):
        self.app = app
        self.flow = flow
        self.values = values or {}  # an outgoing call's values: its personal sentences too
        self._index: dict[str, str] | None = None

    @classmethod
    def for_app(cls, app, flow=None, values: dict[str, str] | None = None) -> PromptIndex:
        return cls(app, flow, values)

    def _build(self) -> dict[str, str]:
        prompts = self.app.extensions.get("speech_prompts")
        if prompts is None:  # no speech package: the flow speaks with <Say>
            return {}
        try:
            flow = self.flow or load_flow(self.app.config["FLOWS_PATH"])
            index = {}
            for text, language in [*flow.texts(), *flow.texts_with(self.values)]:
                key = prompts.key(text, language)  # the name only: nothing is synthesized
                if key:
                    index[prompts.url(key)] = text
            return index
        except Exception as exc:  # a bad flow only costs the captions
            log.warning("prompt captions unavailable: %s", exc)
            return {}

    def __call__(self, url: str) -> str | None:
        if self._index is None:
            self._index = self._build()
        if url in self._index:
            return self._index[url]
        path = url.split("://", 1)[-1].partition("/")[2]
        for known, text in self._index.items():
            if known.split("://", 1)[-1].partition("/")[2] == path:
                return text
        return None
