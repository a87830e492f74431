"""Quality alerts as pure functions: what changed since the last alert, whether to post, and what to say.

The rule (docs/scheduler.md): alert when the score falls below the threshold, when it falls another
`score_drop` points while below, or when findings of `min_severity` or worse appear that the last
alert did not report. Nothing else re-alerts: the same report an hour later says nothing.

What makes a finding "the same" from one report to the next (`finding_keys`): its kind, severity and
memory ids, so reworded text is not news. A finding without ids (a knowledge gap, ingest failures) is
known by what its message quotes (the unanswered question), or else by its place among the id-less
findings of its kind: a count in the text ("asked 3x", "2 mail items") going up is not news, one more
such finding is. When an open alert clears (score back above the threshold and no
such findings left) one "recovered" note is posted.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from memory_core import Finding, QualityReport, Severity, TrendPoint

from .config import AlertsSettings
from .message import Level, Notification, Section

__all__ = [
    "AlertState",
    "Assessment",
    "alert_notification",
    "assess",
    "check_notification",
    "finding_key",
    "finding_keys",
    "next_state",
    "recovered_notification",
    "sparkline",
    "trend_line",
]

_QUOTED = re.compile(r"“([^”]+)”|\"([^\"]+)\"")
_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.CRITICAL: 2}
_BARS = "▁▂▃▄▅▆▇█"
_TREND_POINTS = 12
_IDS_SHOWN = 8


def finding_keys(findings: Sequence[Finding]) -> list[str]:
    """One short key per finding, saying which finding it is across reports (see the module docstring)."""
    keys, places = [], Counter[tuple[str, str]]()
    for finding in findings:
        ids = sorted(set(finding.memory_ids))
        if ids:
            identity = "ids:" + ",".join(map(str, ids))
        elif quoted := _QUOTED.search(finding.message):
            identity = "quote:" + " ".join(next(g for g in quoted.groups() if g is not None).lower().split())
        else:
            place = (finding.kind, finding.severity.value)
            places[place] += 1
            identity = f"place:{places[place]}"
        digest = hashlib.sha256(f"{finding.kind}|{finding.severity.value}|{identity}".encode())
        keys.append(digest.hexdigest()[:16])
    return keys


def finding_key(finding: Finding) -> str:
    """The key of a finding on its own (an id-less one without quotes: as the first of its kind)."""
    return finding_keys([finding])[0]


def _fingerprint(below: bool, keys: frozenset[str], score: int) -> str:
    blob = json.dumps({"below": below, "findings": sorted(keys), "score": score}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class AlertState:
    """What the last alert reported, kept in the database between runs (and processes).

    `score` is the score of the last alert while below the threshold (further drops are measured from
    it), else the last score seen; `findings` the keys of the alertable findings seen last (so a finding
    that goes away and comes back alerts again); `open` whether an alert is outstanding.
    """

    below: bool
    score: int
    findings: frozenset[str]
    fingerprint: str
    open: bool
    at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "below": self.below,
            "score": self.score,
            "findings": sorted(self.findings),
            "fingerprint": self.fingerprint,
            "open": self.open,
            "at": self.at.isoformat(),
        }

    @classmethod
    def from_json(cls, value: dict[str, Any] | None) -> AlertState | None:
        if not value:
            return None
        try:
            return cls(
                below=bool(value["below"]),
                score=int(value["score"]),
                findings=frozenset(str(k) for k in value["findings"]),
                fingerprint=str(value["fingerprint"]),
                open=bool(value["open"]),
                at=datetime.fromisoformat(str(value["at"])),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class Assessment:
    """One report held against the last alert: what is new, what is gone, and whether to post."""

    report: QualityReport
    threshold: int
    min_severity: Severity
    below: bool
    crossed: bool
    dropped_by: int | None
    alertable: tuple[Finding, ...]
    alertable_keys: tuple[str, ...]
    new_keys: frozenset[str]
    resolved: int
    recovered: bool
    previous_score: int | None
    last_alert_score: int | None

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(self.alertable_keys)

    @property
    def new(self) -> tuple[Finding, ...]:
        return tuple(
            f for f, k in zip(self.alertable, self.alertable_keys, strict=True) if k in self.new_keys
        )

    def is_new(self, index: int) -> bool:
        return self.alertable_keys[index] in self.new_keys

    @property
    def reasons(self) -> tuple[str, ...]:
        score, reasons = self.report.score, []
        if self.crossed:
            reasons.append(f"The score fell below the threshold: {score} < {self.threshold}.")
        if self.dropped_by is not None:
            reasons.append(f"The score fell {self.dropped_by} more points since the last alert, to {score}.")
        if self.new_keys:
            count = len(self.new_keys)
            level = "critical" if self.min_severity is Severity.CRITICAL else "warning or critical"
            reasons.append(f"{count} new finding{'s' if count != 1 else ''} of {level} severity.")
        return tuple(reasons)

    @property
    def should_alert(self) -> bool:
        return bool(self.reasons)

    @property
    def fingerprint(self) -> str:
        return _fingerprint(self.below, self.keys, self.report.score)


def _previous_score(report: QualityReport) -> int | None:
    earlier = [p for p in report.trend if p.at < report.created_at]
    return earlier[-1].score if earlier else None


def _worst_first(
    findings: Sequence[Finding], keys: Sequence[str], new_keys: frozenset[str]
) -> list[tuple[Finding, str]]:
    return sorted(
        zip(findings, keys, strict=True),
        key=lambda fk: (-_RANK[fk[0].severity], fk[1] not in new_keys, -len(fk[0].memory_ids), fk[0].kind),
    )


def assess(report: QualityReport, last: AlertState | None, settings: AlertsSettings) -> Assessment:
    """Compare a report with the last alert (None: never alerted) — pure, no I/O."""
    floor = _RANK[settings.min_severity]
    alertable = [f for f in report.findings if _RANK[f.severity] >= floor]
    key_list = finding_keys(alertable)
    keys = frozenset(key_list)
    below = report.score < settings.threshold
    known = last.findings if last is not None else frozenset()
    new_keys = keys - known
    was_below = last is not None and last.below
    dropped_by = None
    if below and was_below and last is not None and last.score - report.score >= settings.score_drop:
        dropped_by = last.score - report.score
    recovered = last is not None and last.open and not below and not keys
    ordered = _worst_first(alertable, key_list, new_keys)
    return Assessment(
        report=report,
        threshold=settings.threshold,
        min_severity=settings.min_severity,
        below=below,
        crossed=below and not was_below,
        dropped_by=dropped_by,
        alertable=tuple(f for f, _k in ordered),
        alertable_keys=tuple(k for _f, k in ordered),
        new_keys=new_keys,
        resolved=len(known - keys),
        recovered=recovered,
        previous_score=_previous_score(report),
        last_alert_score=last.score if (last is not None and last.open) else None,
    )


def next_state(
    assessment: Assessment, last: AlertState | None, now: datetime, *, posted: bool
) -> AlertState | None:
    """The state to keep after acting on `assessment`; `posted` says whether the alert/recovery got out.

    An alert or recovery that reached nobody leaves the old state, so the next run tries again.
    """
    report = assessment.report
    if (assessment.should_alert or assessment.recovered) and not posted:
        return last
    if assessment.should_alert:
        return AlertState(
            below=assessment.below,
            score=report.score,
            findings=assessment.keys,
            fingerprint=assessment.fingerprint,
            open=True,
            at=now,
        )
    if last is None or assessment.recovered:
        return AlertState(
            below=assessment.below,
            score=report.score,
            findings=assessment.keys,
            fingerprint=last.fingerprint if last is not None else "",
            open=False,
            at=now if assessment.recovered or last is None else last.at,
        )
    return AlertState(
        below=assessment.below,
        # While below, further drops are measured from the score of the last alert.
        score=last.score if assessment.below else report.score,
        findings=assessment.keys,
        fingerprint=last.fingerprint,
        open=last.open,
        at=last.at,
    )


# --- rendering --------------------------------------------------------------------------------------------


def sparkline(scores: Sequence[int]) -> str:
    """Scores 0-100 as bars on an absolute scale (so a flat line at 40 looks low, not average)."""
    return "".join(_BARS[min(len(_BARS) - 1, max(0, score) * len(_BARS) // 101)] for score in scores)


def _trend_scores(trend: Sequence[TrendPoint], current: int, at: datetime) -> list[int]:
    earlier = [p.score for p in trend if p.at < at][-(_TREND_POINTS - 1) :]
    return [*earlier, current]


def trend_line(trend: Sequence[TrendPoint], current: int, at: datetime) -> str:
    scores = _trend_scores(trend, current, at)
    if len(scores) == 1:
        return f"{sparkline(scores)} first report"
    return f"{sparkline(scores)} {scores[0]} → {current} over the last {len(scores)} reports"


def _refs(ids: Sequence[int]) -> str:
    shown = " ".join(f"#{i}" for i in ids[:_IDS_SHOWN])
    more = len(ids) - _IDS_SHOWN
    return f"{shown} (+{more} more)" if more > 0 else shown


def _finding_line(finding: Finding, new: bool) -> str:
    parts = [f"{'NEW ' if new else ''}[{finding.severity.value}] {finding.kind}: {finding.message}"]
    if finding.memory_ids:
        parts.append(f"({_refs(finding.memory_ids)})")
    line = " ".join(parts)
    return f"{line}. Fix: {finding.hint}" if finding.hint else line


def _finding_data(finding: Finding, new: bool) -> dict[str, Any]:
    return {**finding.model_dump(mode="json"), "new": new}


def _score_line(a: Assessment) -> str:
    report = a.report
    line = f"{report.score}/100 (threshold {a.threshold})"
    if a.previous_score is not None:
        line += f", {report.score - a.previous_score:+d} since the previous report"
    if a.last_alert_score is not None and a.last_alert_score != report.score:
        line += f", {a.last_alert_score} at the last alert"
    return line


def alert_notification(a: Assessment, *, max_findings: int) -> Notification:
    report = a.report
    title = f"Memory quality {report.score}/100 in {report.tenant}"
    if a.below:
        title += f" (below {a.threshold})"
    level: Level = "critical" if any(f.severity is Severity.CRITICAL for f in a.alertable) else "warning"
    findings = [_finding_line(f, a.is_new(i)) for i, f in enumerate(a.alertable[:max_findings])]
    if len(a.alertable) > max_findings:
        findings.append(
            f"… and {len(a.alertable) - max_findings} more: run `teamlore quality --tenant {report.tenant}`."
        )
    if a.resolved:
        findings.append(f"{a.resolved} finding{'s' if a.resolved != 1 else ''} of the last alert resolved.")
    trend = f"Trend: {trend_line(report.trend, report.score, report.created_at)}"
    sections = [
        Section("Score", (_score_line(a), trend)),
        Section("Why this alert", a.reasons),
    ]
    if findings:
        sections.append(Section("Top findings", tuple(findings)))
    return Notification(
        event="quality_alert",
        tenant=report.tenant,
        title=title,
        level=level,
        sections=tuple(sections),
        data={
            "score": report.score,
            "previous_score": a.previous_score,
            "threshold": a.threshold,
            "below_threshold": a.below,
            "reasons": list(a.reasons),
            "fingerprint": a.fingerprint,
            "report_id": report.id,
            "findings": [_finding_data(f, a.is_new(i)) for i, f in enumerate(a.alertable)],
            "resolved": a.resolved,
            "trend": [{"at": p.at.isoformat(), "score": p.score} for p in report.trend],
        },
    )


def recovered_notification(a: Assessment) -> Notification:
    report = a.report
    return Notification(
        event="quality_recovered",
        tenant=report.tenant,
        title=f"Memory quality recovered in {report.tenant}: {report.score}/100",
        level="info",
        sections=(
            Section(
                "Score",
                (_score_line(a), f"Trend: {trend_line(report.trend, report.score, report.created_at)}"),
            ),
            Section("Status", ("No warning or critical findings remain; the last alert is resolved.",)),
        ),
        data={
            "score": report.score,
            "previous_score": a.previous_score,
            "threshold": a.threshold,
            "report_id": report.id,
        },
    )


def check_notification(now: datetime) -> Notification:
    """What `teamlore alerts test` sends."""
    return Notification(
        event="test",
        tenant=None,
        title="teamlore test alert",
        level="info",
        sections=(
            Section(
                "Test",
                (
                    f"Sent by `teamlore alerts test` at {now:%Y-%m-%d %H:%M %Z}.",
                    "Quality alerts and digests will arrive here.",
                ),
            ),
        ),
        data={"test": True},
        at=now,
    )
