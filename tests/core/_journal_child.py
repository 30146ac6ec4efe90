"""A child process for the journal crash test: create N servers with a journal, maybe die.

Run as ``python _journal_child.py BASE_URL TOKEN JOURNAL COUNT [KILL]``. ``KILL`` is
``sent:n`` (SIGKILL itself right after the n-th ``sent`` line is flushed: that create has
not been sent yet, others are in flight), ``answer:n`` (SIGKILL itself instead of
recording the n-th answer: the API acted and nobody wrote it down) or ``any:n`` (after the
n-th line of any kind). Without ``KILL`` it runs to the end and prints each item's
outcome as JSON: ``[id, null]`` or ``[null, "ErrorType"]``.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Mapping
from typing import Any

import vpsorg
from vpsorg import _journal


def _install_kill_point(kill: str) -> None:
    kind, _, number = kill.partition(":")
    target = int(number)
    seen = [0]
    write = _journal.JournalRun._write

    def killing_write(self: Any, record: Mapping[str, Any]) -> None:
        state = record.get("state")
        answer = state in ("succeeded", "failed", "unknown")
        counts = (
            kind == "any" or (kind == "sent" and state == "sent") or (kind == "answer" and answer)
        )
        if counts:
            seen[0] += 1
            if kind == "answer" and seen[0] == target:
                os.kill(os.getpid(), signal.SIGKILL)
        write(self, record)
        if counts and kind != "answer" and seen[0] == target:
            os.kill(os.getpid(), signal.SIGKILL)

    _journal.JournalRun._write = killing_write  # type: ignore[method-assign]


def main() -> None:
    base_url, token, path, count = sys.argv[1:5]
    if len(sys.argv) > 5:
        _install_kill_point(sys.argv[5])
    specs = [
        vpsorg.ServerSpec(name=f"crash-{i}", plan_id=1, os_id=5, location="us-east")
        for i in range(int(count))
    ]
    retry = vpsorg.RetryPolicy(backoff_base=0.001, backoff_cap=0.005)
    with vpsorg.Client(token=token, base_url=base_url, retry=retry) as client:
        result = client.servers.create_many(
            specs, concurrency=8, journal=vpsorg.Journal(path, settle_window=0.3)
        )
    print(
        json.dumps([[o.value.id, None] if o.ok else [None, type(o.error).__name__] for o in result])
    )


if __name__ == "__main__":
    main()
