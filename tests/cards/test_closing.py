"""The closing messages of a stopped run (stager.card.stop), built from what the medium
confirmed: unit tests, no card needed."""

from __future__ import annotations

import signal

from stager.card import stop
from stager.errors import ExitCode, signal_exit, stopped_by_signal

PART = "/media/tech/CARD/.stager-FW.BIN.1234abcd.part"
LOCK = "/media/tech/CARD/.stager-lock"


def state_with(*files) -> stop.StopState:
    state = stop.StopState()
    state.signum = signal.SIGINT
    for path, kind in files:
        state.wrote(path, kind)
    return state


def test_a_removal_the_card_did_not_confirm_is_never_called_removed():
    state = state_with((PART, "temporary"), (LOCK, "lock"))
    state.unlinked(PART)
    state.unlinked(LOCK)
    text = stop.closing_message(state)
    assert "nothing half-written" not in text
    assert "did not confirm" in text and f"{PART} (temporary file)" in text and f"{LOCK} (this run's lock" in text
    assert "stager prepare" in text  # what to do
    state.confirmed([PART, LOCK])
    text = stop.closing_message(state)
    assert text.startswith("Interrupted (Ctrl-C): nothing half-written is left on the card.")
    assert f"Removed, and the card confirmed it: {PART} (temporary file); {LOCK}" in text


def test_what_the_card_refused_or_never_answered_is_named_with_why():
    state = state_with((PART, "temporary"), (LOCK, "lock"))
    state.not_removed(PART, "Input/output error")
    text = stop.closing_message(state)
    assert f"{PART} (temporary file: Input/output error)" in text
    assert f"Still on the card (the card did not answer in time): {LOCK}" in text
    assert stop.closing(state).details == {"cleaned": [], "unconfirmed": [], "left": sorted([LOCK, PART])}


def test_the_second_stop_names_unconfirmed_removals_too():
    state = state_with((PART, "temporary"), (LOCK, "lock"))
    state.unlinked(PART)
    text = stop.second_stop_message(state)
    assert PART in text and LOCK in text
    state.confirmed([PART])
    state.gone(LOCK)
    assert "nothing this run wrote is left" in stop.second_stop_message(state)


def test_the_cleanup_time_starts_at_the_stop():
    state = stop.StopState()
    assert state.remaining(otherwise=7.0) == 7.0
    state.started_cleanup()
    assert 0.0 < state.remaining() <= stop.CLEANUP_SECONDS


def test_signal_exit_codes_are_exit_code_members():
    assert signal_exit(None) is ExitCode.INTERRUPTED
    assert signal_exit(signal.SIGTERM) is ExitCode.TERMINATED == 143
    assert signal_exit(signal.SIGHUP) is ExitCode.HANGUP == 129
    assert signal_exit(21) is ExitCode.BREAK == 149  # SIGBREAK on Windows
    assert signal_exit(9) == 137 and stopped_by_signal(137) and not stopped_by_signal(ExitCode.VERIFY)
