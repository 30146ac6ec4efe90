"""Ctrl-C during a blocking bulk call: the KeyboardInterrupt carries the partial result."""

from __future__ import annotations

import signal
import sys
import threading
import time

import pytest

import vpsorg
from vpsorg.simulator import serve_in_thread

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def test_ctrl_c_in_create_many_keeps_every_outcome_on_the_interrupt() -> None:
    main = threading.main_thread()
    assert threading.current_thread() is main
    specs = [
        vpsorg.ServerSpec(name=f"sigint-{i}", plan_id=1, os_id=5, location="us-east")
        for i in range(8)
    ]
    with serve_in_thread(provision_delay=0.05, action_delay=0.05) as sim:
        sim.script(path="/api/v1/servers/", method="POST", delay=30, times=1)  # one hangs
        client = vpsorg.Client(token=sim.token, base_url=sim.base_url)

        def interrupt() -> None:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:  # bounded: until the other seven exist
                if sum(sim.count_by_name(f"sigint-{i}") for i in range(8)) >= 7:
                    signal.pthread_kill(main.ident or 0, signal.SIGINT)
                    return
                time.sleep(0.01)

        sender = threading.Thread(target=interrupt)
        sender.start()
        try:
            with pytest.raises(KeyboardInterrupt) as caught:
                client.servers.create_many(specs, concurrency=2)
            sender.join(10)
        finally:
            client.close()
        partial = vpsorg.partial_result(caught.value)
        assert partial is not None and partial.stop_reason == "interrupted"
        assert caught.value.partial_result is partial  # type: ignore[attr-defined]
        assert len(partial) == 8
        assert len(partial.succeeded) == 7  # every server made is in it
        (pending,) = partial.failed
        assert isinstance(pending.error, vpsorg.OutcomeUnknownError)
        assert pending.error.spec is not None and pending.error.started_at is not None
