"""The alert rule as pure functions: when to post, never twice for the same thing, and what it says."""

from __future__ import annotations

from datetime import timedelta

from memory_core import Finding, QualityReport, Severity
from scheduler import AlertsSettings
from scheduler.alerts import (
    AlertState,
    alert_notification,
    assess,
    finding_key,
    finding_keys,
    next_state,
    recovered_notification,
    sparkline,
)
from scheduler.message import plain_text

from .conftest import T0, finding, report

SETTINGS = AlertsSettings(threshold=70, score_drop=10)


def step(r: QualityReport, last: AlertState | None, *, posted: bool = True) -> tuple[bool, AlertState | None]:
    """One quality check: did it alert (or recover), and the state it leaves."""
    a = assess(r, last, SETTINGS)
    speaks = a.should_alert or a.recovered
    return speaks, next_state(a, last, r.created_at, posted=posted and speaks)


def test_healthy_report_says_nothing() -> None:
    a = assess(report(90, [finding(severity=Severity.INFO)]), None, SETTINGS)
    assert not a.should_alert and not a.recovered and a.reasons == ()


def test_falling_below_the_threshold_alerts_once() -> None:
    speaks, state = step(report(85), None)
    assert not speaks
    speaks, state = step(report(60, at=T0 + timedelta(hours=1)), state)
    assert speaks
    a = assess(report(60), None, SETTINGS)
    assert a.reasons == ("The score fell below the threshold: 60 < 70.",)
    # The same situation an hour later, and the hour after: silence.
    for hour in (2, 3):
        speaks, state = step(report(60, at=T0 + timedelta(hours=hour)), state)
        assert not speaks
    # Wobbling a little below the threshold is not news either.
    speaks, state = step(report(55, at=T0 + timedelta(hours=4)), state)
    assert not speaks


def test_a_further_drop_of_score_drop_points_alerts_again() -> None:
    _, state = step(report(65), None)
    assert state is not None and state.open
    _, state = step(report(60), state)
    speaks, state = step(report(55), state)
    assert speaks
    a = assess(report(40), state, SETTINGS)
    assert a.dropped_by == 15
    assert "fell 15 more points since the last alert, to 40" in a.reasons[0]


def test_new_warning_findings_alert_even_above_the_threshold() -> None:
    dup = finding(ids=(1, 2))
    _, state = step(report(90), None)
    speaks, state = step(report(88, [dup]), state)
    assert speaks
    # Reworded message, same kind, severity and ids: the same finding.
    speaks, state = step(report(88, [finding(ids=(2, 1), message="2 memories say the same")]), state)
    assert not speaks
    stale = finding(kind="stale", ids=(7,), message="stale", hint="update it")
    a = assess(report(87, [dup, stale]), state, SETTINGS)
    assert a.should_alert and [f.kind for f in a.new] == ["stale"]
    assert a.reasons == ("1 new finding of warning or critical severity.",)


def test_info_findings_never_alert_and_severity_escalation_does() -> None:
    _, state = step(report(90), None)
    speaks, state = step(report(90, [finding(severity=Severity.INFO)]), state)
    assert not speaks
    speaks, state = step(report(90, [finding(severity=Severity.WARNING)]), state)
    assert speaks
    speaks, state = step(report(90, [finding(severity=Severity.CRITICAL)]), state)
    assert speaks


def test_a_finding_that_goes_and_comes_back_alerts_again() -> None:
    dup = finding()
    _, state = step(report(90, [dup]), None)
    speaks, state = step(report(90, [dup, finding(kind="stale", ids=(9,))]), state)
    assert speaks
    speaks, state = step(report(90, [dup]), state)
    assert not speaks
    speaks, state = step(report(90, [dup, finding(kind="stale", ids=(9,))]), state)
    assert speaks


def test_recovery_is_posted_once_after_an_open_alert() -> None:
    _, state = step(report(60, [finding()]), None)
    speaks, state = step(report(80, [finding()]), state)
    assert not speaks  # still a warning open: not recovered
    a = assess(report(85), state, SETTINGS)
    assert a.recovered and not a.should_alert
    speaks, state = step(report(85), state)
    assert speaks and state is not None and not state.open
    speaks, state = step(report(86), state)
    assert not speaks
    # And the next drop alerts again.
    speaks, _ = step(report(50), state)
    assert speaks


def test_an_alert_nobody_received_is_tried_again() -> None:
    _, state = step(report(90), None)
    speaks, kept = step(report(50), state, posted=False)
    assert speaks and kept == state
    speaks, _ = step(report(50), kept)
    assert speaks


def test_state_survives_json_and_rejects_garbage() -> None:
    _, state = step(report(50, [finding()]), None)
    assert state is not None
    assert AlertState.from_json(state.to_json()) == state
    assert AlertState.from_json({"below": True}) is None
    assert AlertState.from_json(None) is None


def test_alert_content_score_change_findings_and_trend() -> None:
    crit = finding(
        kind="contradiction",
        severity=Severity.CRITICAL,
        ids=(3, 4),
        message="#3 and #4 disagree",
        hint="keep one",
    )
    many = finding(kind="near_duplicate", ids=range(10, 22), message="12 near-duplicates", hint="merge them")
    info = finding(kind="low_information", severity=Severity.INFO, ids=(5,), message="too short")
    r = report(58, [many, info, crit], trend=[82, 80, 75, 71])
    a = assess(r, None, SETTINGS)
    note = alert_notification(a, max_findings=5)
    assert note.title == "Memory quality 58/100 in default (below 70)"
    assert note.level == "critical" and note.event == "quality_alert"
    text = plain_text(note)
    assert "58/100 (threshold 70), -13 since the previous report" in text
    assert f"Trend: {sparkline([82, 80, 75, 71, 58])} 82 → 58 over the last 5 reports" in text
    lines = {s.heading: s.lines for s in note.sections}["Top findings"]
    # Worst first; ids named; long id lists shortened; the hint is there.
    assert lines[0] == "NEW [critical] contradiction: #3 and #4 disagree (#3 #4). Fix: keep one"
    assert lines[1].startswith(
        "NEW [warning] near_duplicate: 12 near-duplicates (#10 #11 #12 #13 #14 #15 #16 #17"
    )
    assert lines[1].endswith("(+4 more)). Fix: merge them")
    assert all("low_information" not in line for line in lines)
    assert note.data["score"] == 58 and note.data["previous_score"] == 71
    assert [f["kind"] for f in note.data["findings"]] == ["contradiction", "near_duplicate"]
    assert note.data["fingerprint"] == a.fingerprint


def test_alert_lists_at_most_max_findings_and_says_how_many_more() -> None:
    findings = [finding(kind=f"k{i}", ids=(i,)) for i in range(8)]
    note = alert_notification(assess(report(90, findings), None, SETTINGS), max_findings=3)
    lines = {s.heading: s.lines for s in note.sections}["Top findings"]
    assert len(lines) == 4
    assert lines[-1] == "… and 5 more: run `teamlore quality --tenant default`."


def test_alert_mentions_resolved_findings_and_the_last_alert_score() -> None:
    _, state = step(report(65, [finding(ids=(1, 2))]), None)
    a = assess(report(50, [finding(kind="gap", ids=(), message="no answer for 'vpn'")]), state, SETTINGS)
    text = plain_text(alert_notification(a, max_findings=5))
    assert "65 at the last alert" in text
    assert "1 finding of the last alert resolved." in text
    assert "NEW [warning] gap: no answer for 'vpn'. Fix: forget one of them" in text


def test_recovered_note() -> None:
    _, state = step(report(60), None)
    note = recovered_notification(assess(report(82, trend=[60]), state, SETTINGS))
    assert note.event == "quality_recovered" and note.level == "info"
    assert note.title == "Memory quality recovered in default: 82/100"


def test_sparkline_is_on_an_absolute_scale() -> None:
    assert sparkline([0, 50, 100]) == "▁▄█"
    assert sparkline([40, 40]) == "▄▄"


def test_finding_key_ignores_order_and_message_when_ids_are_given() -> None:
    assert finding_key(finding(ids=(1, 2), message="a")) == finding_key(finding(ids=(2, 1), message="b"))
    assert finding_key(finding(severity=Severity.WARNING)) != finding_key(finding(severity=Severity.CRITICAL))


def test_findings_without_ids_are_known_by_what_they_quote_or_their_place() -> None:
    def gap(question: str, times: int) -> Finding:
        return finding(
            kind="knowledge_gap", ids=(), message=f"no good answer to “{question}” (asked {times}×)"
        )

    def failures(count: int, latest: str) -> Finding:
        return finding(kind="ingest_failure", ids=(), message=f"{count} email items failed; latest: {latest}")

    # The count in the text changes, the finding does not.
    assert finding_keys([gap("vpn host?", 3)]) == finding_keys([gap("VPN  host?", 4)])
    assert finding_keys([gap("vpn host?", 3)]) != finding_keys([gap("wifi password?", 3)])
    assert finding_keys([failures(1, "no text (<a@x>)")]) == finding_keys([failures(2, "too large (<b@x>)")])
    # One more id-less finding of a kind is news.
    one = set(finding_keys([failures(1, "x")]))
    two = set(finding_keys([failures(1, "x"), failures(3, "y")]))
    assert one < two
