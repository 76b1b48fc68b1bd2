#!/usr/bin/env python3
"""
A real SMTP server on loopback for the notification tests (Debian's
python3-aiosmtpd): every message it accepts is written to DIR as
<n>.eml (the DATA exactly as received) and <n>.json (the envelope:
mail_from, rcpt_tos, peer).  It prints "ready" once it listens and stops on
SIGTERM or when its parent goes away.

    python3 tests/e2e/smtpsink.py PORT DIR [DELAY_MS]

DELAY_MS (default 0) makes it answer each DATA that much later, so a test
can kill the sender while a delivery is in flight.
"""

import asyncio
import json
import os
import signal
import sys
import threading
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out_dir, delay_ms=0):
        self.out = out_dir
        self.delay = delay_ms / 1000.0
        self.n = 0
        self.mu = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        with self.mu:
            self.n += 1
            n = self.n
        base = os.path.join(self.out, "%06d-%d" % (n, os.getpid()))
        data = envelope.original_content or envelope.content
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogateescape")
        with open(base + ".tmp", "wb") as f:
            f.write(data)
        with open(base + ".json", "w") as f:
            json.dump({"mail_from": envelope.mail_from,
                       "rcpt_tos": list(envelope.rcpt_tos),
                       "peer": str(session.peer)}, f)
        os.replace(base + ".tmp", base + ".eml")
        return "250 Message accepted for delivery"


def main():
    port = int(sys.argv[1])
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    delay = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    ctl = Controller(Sink(out, delay), hostname="127.0.0.1", port=port,
                     decode_data=False, enable_SMTPUTF8=True)
    ctl.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    signal.signal(signal.SIGINT, lambda *a: stop.set())
    print("ready", flush=True)
    parent = os.getppid()
    deadline = time.monotonic() + 900   # never outlive a test run
    while not stop.is_set() and time.monotonic() < deadline:
        if os.getppid() != parent:
            break
        stop.wait(0.2)
    ctl.stop()


if __name__ == "__main__":
    main()
