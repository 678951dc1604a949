#!/usr/bin/env python3
"""Drive `heapsoc run` on a pseudo-terminal as a person or LAVA does: wait for a text,
send a line, and so on; fail naming the step whose text never came.

usage: console-session.py TRANSCRIPT TIMEOUT STEP... -- COMMAND ARGS...
  STEP: expect:TEXT     wait for TEXT in the output (no newline needed after it)
        send:LINE       type LINE and Enter
        idle:SECONDS    wait that long and print the CPU seconds the command used meanwhile
        eof             wait for the command to end; its exit status becomes ours
Only the standard library: it runs on a fresh machine before anything else is installed.
"""
import os
import pty
import select
import sys
import time


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    transcript, timeout = sys.argv[1], float(sys.argv[2])
    sep = sys.argv.index("--")
    steps, command = sys.argv[3:sep], sys.argv[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    out = bytearray()
    seen = 0  # output before this offset was matched already
    log = open(transcript, "wb")

    def pump(deadline):
        """Read what is there until `deadline`; False at end of output."""
        r, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not r:
            return True
        try:
            data = os.read(fd, 65536)
        except OSError:  # EIO: the other side closed
            return False
        if not data:
            return False
        out.extend(data)
        log.write(data)
        log.flush()
        return True

    for step in steps:
        kind, _, arg = step.partition(":")
        deadline = time.monotonic() + timeout
        if kind == "expect":
            want = arg.encode()
            while out.find(want, seen) < 0:
                if time.monotonic() > deadline or not pump(deadline):
                    sys.exit(f"console-session: {arg!r} never came (see {transcript})")
            seen = out.find(want, seen) + len(want)
        elif kind == "send":
            os.write(fd, arg.encode() + b"\r")
        elif kind == "idle":
            before, end = cpu_seconds(pid), time.monotonic() + float(arg)
            while time.monotonic() < end:
                pump(end)
            print(f"console-session: idle {arg} s: {cpu_seconds(pid) - before:.2f} s CPU")
        elif kind == "eof":
            while pump(deadline):
                if time.monotonic() > deadline:
                    sys.exit(f"console-session: the command did not end (see {transcript})")
            _, status = os.waitpid(pid, 0)
            sys.exit(os.waitstatus_to_exitcode(status))
        else:
            sys.exit(f"console-session: unknown step {step!r}")


if __name__ == "__main__":
    main()
