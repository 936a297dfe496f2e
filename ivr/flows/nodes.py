"""What each node kind does when entered and when resumed with the caller's input.

Each handler: enter(run, node) and resume(run, node, value) return the id of the
next node, or None when the turn stops (a wait was emitted or the call ended).
"""

from __future__ import annotations

import re

from core.calendar import in_window
from ivr.flows import events as ev
from ivr.flows.messages import spell_digits
from ivr.flows.session import Phase

LISTEN_MAX_SECONDS = 4
LISTEN_SILENCE_SECONDS = 2
DIAL_TIMEOUT_DEFAULT = 30


def _failed_try(run, node, kind: str, reprompt) -> str | None:
    """Count a failed try; after max_tries go to the fallback, else say why and re-prompt.

    A node's own `invalid` / `no_input` prompt replaces the flow's message."""
    if run.tries(kind) >= node.max_tries:
        return node.fallback
    own = getattr(node, "invalid" if kind == "invalid" else "no_input", None)
    if own is not None:
        run.say(own)
    else:
        run.message("invalid" if kind == "invalid" else "timeout")
    return reprompt()


def _unexpected(run, value) -> None:
    run.fail(f"unexpected input {type(value).__name__} at {run.session.node}")


class PromptHandler:
    @staticmethod
    def enter(run, node):
        run.say(node.prompt)
        if node.barge_in:
            run.wait(ev.GatherDigits(timeout=node.barge_in_timeout, num_digits=1))
            return None
        return node.next

    @staticmethod
    def resume(run, node, value):
        if isinstance(value, ev.Digits) and value.digits:
            return node.barge_in
        if isinstance(value, ev.Timeout | ev.Digits):
            return node.next
        return _unexpected(run, value)


class MenuHandler:
    @staticmethod
    def enter(run, node):
        run.session.phase = Phase.DTMF
        run.say(node.prompt)
        run.wait(ev.GatherDigits(timeout=node.timeout, num_digits=1))
        return None

    @classmethod
    def resume(cls, run, node, value):
        reprompt = lambda: cls.enter(run, node)  # noqa: E731
        if isinstance(value, ev.Digits) and value.digits:
            key = value.digits[:1]
            for option in node.options:
                if option.key == key:
                    return cls._choose(run, option)
            if key == "*" and node.repeat_key:
                return reprompt()
            if key == "0" and node.operator_key:
                return run.flow.operator
            return _failed_try(run, node, "invalid", reprompt)
        if isinstance(value, ev.Speech):
            # The recogniser has already applied the one confidence threshold
            # (SPEECH_GRAMMAR_MIN_CONFIDENCE): a word below it arrives as empty text.
            text = value.text or ""
            # The longest keyword heard wins: 不满意 is not 满意.
            heard = [(len(w), -i, w, o) for i, o in enumerate(node.options) for w in o.keywords]
            heard = [h for h in heard if text and h[2] in text]
            if heard:
                *_, word, option = max(heard, key=lambda h: h[:2])
                run.session.vars["heard"] = word
                return cls._choose(run, option)
            return _failed_try(run, node, "invalid", reprompt)
        if isinstance(value, ev.Timeout | ev.Digits):
            # Invite the caller to speak only when something can recognise it.
            if node.keywords and run.session.phase is Phase.DTMF and run.services.can_listen():
                run.session.phase = Phase.LISTEN
                if node.listen_hint:
                    run.say(node.listen or run.flow.message("listen"))
                run.wait(
                    ev.RecordAudio(
                        purpose="listen",
                        max_length=LISTEN_MAX_SECONDS,
                        silence=LISTEN_SILENCE_SECONDS,
                        words=node.keywords,
                    )
                )
                return None
            return _failed_try(run, node, "timeout", reprompt)
        if isinstance(value, ev.RecordingDone):  # a listen recording the adapter did not decode
            return _failed_try(run, node, "invalid", reprompt)
        return _unexpected(run, value)

    @staticmethod
    def _choose(run, option):
        if option.language:
            run.session.language = option.language
        return option.next


def valid_digits(value: str, *, min_length: int, max_length: int, pattern: str | None) -> bool:
    if not value.isdigit() or not min_length <= len(value) <= max_length:
        return False
    return pattern is None or re.fullmatch(pattern, value) is not None


class DigitsHandler:
    @staticmethod
    def enter(run, node):
        run.say(node.prompt)
        fixed = node.max_length if node.min_length == node.max_length else None
        run.wait(
            ev.GatherDigits(
                timeout=node.timeout, num_digits=fixed, finish_on_key=node.finish_on_key
            )
        )
        return None

    @classmethod
    def resume(cls, run, node, value):
        reprompt = lambda: cls.enter(run, node)  # noqa: E731
        if isinstance(value, ev.Digits) and value.digits:
            digits = value.digits.rstrip(node.finish_on_key) if node.finish_on_key else value.digits
            if valid_digits(
                digits, min_length=node.min_length, max_length=node.max_length, pattern=node.pattern
            ):
                run.session.vars[node.store] = digits
                return node.next
            return _failed_try(run, node, "invalid", reprompt)
        if isinstance(value, ev.Timeout | ev.Digits):
            return _failed_try(run, node, "timeout", reprompt)
        return _unexpected(run, value)


class RecordHandler:
    @staticmethod
    def enter(run, node):
        run.say(node.prompt)
        run.wait(
            ev.RecordAudio(
                purpose="message", max_length=node.max_length, silence=node.silence, beep=node.beep
            )
        )
        return None

    @classmethod
    def resume(cls, run, node, value):
        if isinstance(value, ev.RecordingDone) and value.url and value.duration > 0:
            if node.into == "comment":
                run.services.keep_comment(
                    run.session,
                    recording_url=value.url,
                    recording_sid=value.sid,
                    duration=value.duration,
                )
                return node.next
            number = run.services.leave_voice_message(
                run.session,
                recording_url=value.url,
                recording_sid=value.sid,
                duration=value.duration,
            )
            run.session.vars["ticket_number"] = number
            run.set_outcome("voice_message")
            run.session.needs_return_call = False
            run.events.append(ev.TicketCreated(number))
            if node.confirm is not None:
                run.say(
                    node.confirm,
                    fallback="ticket_readback",
                    digits=spell_digits(number, run.language),
                    number=number,
                )
            else:
                run.readback(number)
            return node.next
        if isinstance(value, ev.RecordingDone | ev.Timeout):
            if run.tries("timeout") >= node.max_tries:
                return node.fallback
            run.message("no_message")
            return cls.enter(run, node)
        return _unexpected(run, value)


class TransferHandler:
    @staticmethod
    def enter(run, node):
        run.say(node.prompt)
        if node.queue:
            run.wait(
                ev.Enqueue(
                    queue=node.queue,
                    node=node.id,
                    overflow_after=node.overflow_after,
                    has_overflow=node.overflow is not None,
                )
            )
        else:
            timeout = node.overflow_after if node.overflow else DIAL_TIMEOUT_DEFAULT
            run.wait(ev.Dial(target=node.dial, timeout=timeout))
        return None

    @staticmethod
    def resume(run, node, value):
        if isinstance(value, ev.QueueResult | ev.DialResult):
            outcome = value.outcome
            if outcome in (ev.QueueOutcome.ANSWERED, ev.DialOutcome.ANSWERED):
                run.set_outcome("agent")
                run.session.needs_return_call = False
                run.end(ev.Hangup())
                return None
            if outcome is ev.QueueOutcome.HUNG_UP:
                run.set_outcome("abandoned_queue")
                run.session.needs_return_call = True
                run.end(ev.Hangup())
                return None
            if node.overflow:
                run.session.overflowed = True
                return node.overflow
            run.fail(f"transfer ended: {outcome.value}")
            return None
        return _unexpected(run, value)


class PassThrough:
    """Nodes that never wait: resumed only by mistake."""

    @staticmethod
    def resume(run, node, value):
        return _unexpected(run, value)


class BranchHandler(PassThrough):
    @staticmethod
    def enter(run, node):
        for case in node.cases:
            if _holds(run, case.when):
                return case.next
        return node.default


def _holds(run, when) -> bool:
    s = run.services
    now = s.now()
    checks = {
        "hours": lambda w: in_window(now, w),
        "workday": lambda want: s.is_workday(now.date()) == want,
        "holiday": lambda want: (not s.is_workday(now.date())) == want,
        "known_caller": lambda want: s.known_caller(run.session.call.caller) == want,
        "incident_mode": lambda want: s.incident_mode() == want,
        "has": lambda wanted: all(run.session.vars.get(n) for n in wanted),
    }
    return all(
        fn(getattr(when, name)) for name, fn in checks.items() if getattr(when, name) is not None
    )


class NoticesHandler(PassThrough):
    @staticmethod
    def enter(run, node):
        texts = run.services.active_notices(
            district=node.district, topic=node.topic, language=run.language
        )
        if texts:
            run.say(node.prompt)
            for text in texts:
                run.say_text(text)
        return node.next


class KbHandler(PassThrough):
    @staticmethod
    def enter(run, node):
        run.say(node.prompt)
        answer = run.services.kb_answer(node.article, run.language)
        if answer:
            run.say_text(answer)
            run.set_outcome("self_service", override=False)
        elif node.missing is not None:
            run.say(node.missing)
        else:
            run.message("kb_missing")
        return node.next


class TicketStatusHandler(PassThrough):
    @staticmethod
    def enter(run, node):
        number = run.session.vars.get(node.number_from)
        status = run.services.ticket_status(number, run.language) if number else None
        if status:
            run.say(node.prompt)
            run.say_text(status)
            run.set_outcome("self_service", override=False)
        elif node.not_found is not None:
            run.say(node.not_found)
        else:
            run.message("ticket_not_found")
        return node.next


class GotoHandler(PassThrough):
    @staticmethod
    def enter(run, node):
        run.say(node.prompt)
        return node.next


class HangupHandler(PassThrough):
    @staticmethod
    def enter(run, node):
        run.say(node.prompt)
        run.set_outcome("self_service", override=False)
        run.end(ev.Hangup())
        return None


class ResultHandler(PassThrough):
    @staticmethod
    def enter(run, node):
        run.say(node.prompt)
        run.session.vars["result"] = node.result
        run.services.record_result(run.session, node.result)
        return node.next


class OptOutHandler(PassThrough):
    @staticmethod
    def enter(run, node):
        run.say(node.prompt)
        run.services.opt_out(run.session)
        return node.next


HANDLERS = {
    "prompt": PromptHandler,
    "menu": MenuHandler,
    "digits": DigitsHandler,
    "record": RecordHandler,
    "transfer": TransferHandler,
    "branch": BranchHandler,
    "notices": NoticesHandler,
    "kb": KbHandler,
    "ticket_status": TicketStatusHandler,
    "goto": GotoHandler,
    "hangup": HangupHandler,
    "result": ResultHandler,
    "opt_out": OptOutHandler,
}
