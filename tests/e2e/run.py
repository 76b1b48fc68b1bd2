#!/usr/bin/env python3
"""
Runs the end-to-end tests: every tests/e2e/test_*.py, every function named
test_* in it, in the order they are defined.

    python3 tests/e2e/run.py                       # everything
    python3 tests/e2e/run.py test_lifecycle        # one module
    python3 tests/e2e/run.py test_lifecycle.test_deny   # one test
    python3 tests/e2e/run.py -k approve            # tests whose name has "approve"

A module may define setup_module() and teardown_module(); the latter's
failures (e.g. lockboxd did not exit 0 on SIGTERM, a sanitizer report in its
log) count as a failed test named <module>.teardown_module.

stdout gets one line per test ("ok NAME" or "FAIL NAME: reason") and ends
with the line "N passed, M failed"; details (tracebacks, daemon log tails)
go to stderr.  The exit status is 1 when anything failed.
"""

import importlib
import os
import signal
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True   # no __pycache__ in the source tree

import harness  # noqa: E402

TEST_TIMEOUT = 120.0 * harness.SLOW
MODULE_SETUP_TIMEOUT = 120.0 * harness.SLOW
TOTAL_TIMEOUT = 900.0 * harness.SLOW


def out(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def err(text):
    sys.stderr.write(text if text.endswith("\n") else text + "\n")
    sys.stderr.flush()


def one_line(s, n=600):
    s = " | ".join(x.strip() for x in str(s).strip().splitlines() if x.strip())
    return s if len(s) <= n else s[:n] + "..."


def run_bounded(fn, timeout):
    """Runs fn() in a thread; returns (exception or None, timed_out)."""
    box = {}

    def target():
        try:
            fn()
        except BaseException as e:  # noqa: B902 - report everything
            box["e"] = e
            box["tb"] = traceback.format_exc()

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        return None, None, True
    return box.get("e"), box.get("tb"), False


def reason_of(e):
    if isinstance(e, AssertionError):
        return str(e) or "assertion failed"
    return "%s: %s" % (type(e).__name__, e)


def show_logs():
    for d in harness.live_daemons():
        err("---- %s log (last 25 lines) ----\n%s" % (d.name, d.log_tail(25)))


def discover(selectors, kfilter):
    mods = sorted(f[:-3] for f in os.listdir(HERE)
                  if f.startswith("test_") and f.endswith(".py"))
    plan = []
    for m in mods:
        wanted = None
        if selectors:
            sel = [s for s in selectors if s == m or s.startswith(m + ".")]
            if not sel:
                continue
            if all("." in s for s in sel):
                wanted = {s.split(".", 1)[1] for s in sel}
        plan.append((m, wanted))
    return plan


def main(argv):
    kfilter = None
    selectors = []
    it = iter(argv)
    for a in it:
        if a == "-k":
            kfilter = next(it, None)
        elif a in ("-h", "--help"):
            out(__doc__.strip())
            return 0
        else:
            a = os.path.basename(a)
            selectors.append(a[:-3] if a.endswith(".py") else a)

    passed = failed = 0
    started = time.monotonic()

    def fail(name, reason, tb=None):
        nonlocal failed
        failed += 1
        out("FAIL %s: %s" % (name, one_line(reason)))
        if tb:
            err(tb)

    missing = [p for p in (harness.LOCKBOXD, harness.LOCKBOX)
               if not os.access(p, os.X_OK)]
    if missing:
        fail("setup", "missing binaries: %s (build them first; LOCKBOX_BUILD=%s)"
             % (", ".join(missing), harness.BUILD))
        out("%d passed, %d failed" % (passed, failed))
        return 1

    for modname, wanted in discover(selectors, kfilter):
        try:
            mod = importlib.import_module(modname)
        except Exception as e:
            fail(modname, "import failed: %s" % reason_of(e),
                 traceback.format_exc())
            continue
        tests = [(n, f) for n, f in vars(mod).items()
                 if n.startswith("test_") and callable(f)]
        if wanted is not None:
            tests = [(n, f) for n, f in tests if n in wanted]
        if kfilter:
            tests = [(n, f) for n, f in tests
                     if kfilter in "%s.%s" % (modname, n)]
        if not tests:
            continue
        if time.monotonic() - started > TOTAL_TIMEOUT:
            for n, _ in tests:
                fail("%s.%s" % (modname, n), "not run: total time bound reached")
            continue

        setup = getattr(mod, "setup_module", None)
        if setup:
            e, tb, to = run_bounded(setup, MODULE_SETUP_TIMEOUT)
            if e or to:
                why = "setup_module timed out" if to else \
                    "setup_module failed: " + reason_of(e)
                if tb:
                    err(tb)
                show_logs()
                for n, _ in tests:
                    fail("%s.%s" % (modname, n), why)
                td = getattr(mod, "teardown_module", None)
                if td:
                    run_bounded(td, MODULE_SETUP_TIMEOUT)
                harness.kill_all()
                continue

        timeout = getattr(mod, "TEST_TIMEOUT", None)
        timeout = timeout * harness.SLOW if timeout else TEST_TIMEOUT
        for n, f in tests:
            name = "%s.%s" % (modname, n)
            t0 = time.monotonic()
            e, tb, to = run_bounded(f, timeout)
            dt = time.monotonic() - t0
            if to:
                fail(name, "timed out after %.0fs" % timeout)
                show_logs()
            elif e is not None:
                fail(name, reason_of(e),
                     None if isinstance(e, harness.Fail) else tb)
                show_logs()
            else:
                passed += 1
                out("ok %s" % name)
            if dt > 10:
                err("(%s took %.1fs)" % (name, dt))

        td = getattr(mod, "teardown_module", None)
        if td:
            e, tb, to = run_bounded(td, MODULE_SETUP_TIMEOUT)
            if to:
                fail(modname + ".teardown_module", "timed out")
            elif e is not None:
                fail(modname + ".teardown_module", reason_of(e),
                     None if isinstance(e, harness.Fail) else tb)
        harness.kill_all()

    harness.kill_all()
    err("e2e: %.1fs (LOCKBOX_BUILD=%s)" % (time.monotonic() - started,
                                          harness.BUILD))
    out("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def _on_signal(signum, frame):
    harness.kill_all()
    sys.stdout.write("interrupted by signal %d\n" % signum)
    os._exit(2)


if __name__ == "__main__":
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    rc = 1
    try:
        rc = main(sys.argv[1:])
    finally:
        harness.kill_all()
    sys.exit(rc)
