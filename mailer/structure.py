"""A cheap look at a mail's raw bytes before the MIME parser: refuse what it cannot take apart safely.

The standard library's parser recurses once per nested part, so a 1,000-deep multipart ends in a
RecursionError (which used to become `451`, and the sender's server retried the same bad mail for
days). Here the nesting is measured on the raw lines — every `boundary=` opens a level, its closing
`--boundary--` ends it (and anything opened inside) — and so is the top header block. Both limits are
settings (`TEAMLORE_MAIL__MAX_MIME_DEPTH`, `TEAMLORE_MAIL__MAX_HEADER_LINES`); over them is MalformedMail,
a permanent `554 5.6.0`.
"""

from __future__ import annotations

import re

from .errors import MalformedMail

__all__ = ["check_structure"]

_BOUNDARY = re.compile(rb"""boundary\s*=\s*(?:"([^"\r\n]{1,200})"|([^\s;"]{1,200}))""", re.IGNORECASE)


def check_structure(data: bytes, *, max_depth: int, max_header_lines: int) -> None:
    """Raise MalformedMail when the top header block or the multipart nesting is over its limit."""
    header_end = re.search(rb"\r?\n\r?\n", data)
    block = data[: header_end.start()] if header_end else data
    fields = sum(1 for line in block.splitlines() if line and line[:1] not in (b" ", b"\t"))
    if fields > max_header_lines:
        raise MalformedMail(f"the message has {fields} header fields; at most {max_header_lines} are read")
    open_boundaries: list[bytes] = []
    for line in data.splitlines():
        if line.startswith(b"--") and open_boundaries:
            closing = line.rstrip()
            for level in range(len(open_boundaries) - 1, -1, -1):
                if closing == b"--" + open_boundaries[level] + b"--":
                    del open_boundaries[level:]
                    break
            continue
        if b"oundary" not in line and b"OUNDARY" not in line:
            continue
        match = _BOUNDARY.search(line)
        if match is None:
            continue
        boundary = match.group(1) or match.group(2)
        if boundary not in open_boundaries:
            open_boundaries.append(boundary)
        if len(open_boundaries) > max_depth:
            raise MalformedMail(f"its MIME parts are nested more than {max_depth} deep")
