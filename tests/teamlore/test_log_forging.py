"""Plain logs keep one record on one line: control characters from requests are escaped (issue #14)."""

from __future__ import annotations

import logging
import re
import socket
from pathlib import Path

from teamlore.logconfig import PLAIN_FORMAT, PlainFormatter, escape_controls

from ._served import serve

FORGED = "2026-12-01 07:00:00,000 ERROR   teamlore.api [-] forged"
_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")


def _record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    record = logging.LogRecord("teamlore.test", logging.INFO, __file__, 1, message, args, None)
    record.request_id = "-"
    if exc is not None:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    return record


def test_control_characters_in_messages_and_arguments_are_escaped() -> None:
    formatter = PlainFormatter(PLAIN_FORMAT)
    line = formatter.format(_record("mail from %s: %s", "eve@x\r\n" + FORGED, "\x1b[2Jcleared\u2028x"))
    assert "\n" not in line and "\r" not in line and "\x1b" not in line and "\u2028" not in line
    assert "\\r\\n2026-12-01" in line and "\\x1b[2J" in line and "\\u2028" in line
    assert escape_controls("tab\there") == "tab\\there"


def test_a_traceback_stays_multi_line_but_no_line_of_it_passes_for_a_record() -> None:
    try:
        raise ValueError("bad id\n" + FORGED)
    except ValueError as exc:
        error = exc
    text = PlainFormatter(PLAIN_FORMAT).format(_record("failed", exc=error))
    lines = text.splitlines()
    assert len(lines) > 2 and "Traceback" in lines[1]
    assert [line for line in lines if _RECORD.match(line)] == [lines[0]]


def test_a_forged_line_in_a_request_path_does_not_reach_the_plain_log(tmp_path: Path) -> None:
    with serve(tmp_path / "data", {"TEAMLORE_LOG__FORMAT": "plain"}) as server:
        port = int(server.url.rsplit(":", 1)[1])
        forged_path = "/x%0a" + FORGED.replace(" ", "%20") + "%0d%0a%1b[31m"
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:  # no client re-encodes it
            request = (
                f"GET {forged_path} HTTP/1.1\r\nHost: x\r\nUser-Agent: a\u0085b\r\nConnection: close\r\n\r\n"
            )
            raw.sendall(request.encode("latin-1"))
            answer = raw.recv(4096)
        assert answer.startswith(b"HTTP/1.1 404")
    text = server.output()  # the server has stopped: its whole log
    assert "forged" in text  # the request was logged ...
    assert not [
        line for line in text.splitlines() if line.startswith("2026-12-01 07:00:00")
    ]  # ... on its own line
    assert "\x1b" not in text
