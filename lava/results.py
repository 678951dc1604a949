#!/usr/bin/python3
"""The test results of a lava-run job, from its log.

    lava/results.py LOG

lava-run logs to stderr one YAML mapping per line ({dt, lvl, msg}); the test results are
the lines with lvl "results" (lava-server stores the same records). Prints one line per
result, `DEFINITION SET CASE RESULT` (SET is `-` outside a test set), in log order; the
job's own result is `lava - job pass|fail`, followed by its error when it failed.
"""

import sys

import yaml


def records(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                rec = yaml.safe_load(line)
            except yaml.YAMLError:
                continue
            if isinstance(rec, dict):
                yield rec


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__.strip().splitlines()[2].strip())
    for rec in records(sys.argv[1]):
        msg = rec.get("msg")
        if rec.get("lvl") != "results" or not isinstance(msg, dict):
            continue
        print(
            msg.get("definition", "?"),
            msg.get("set", "-"),
            msg.get("case", "?"),
            msg.get("result", "?"),
        )
        if msg.get("definition") == "lava" and msg.get("case") == "job":
            if msg.get("result") != "pass":
                print("# job error (%s): %s" % (msg.get("error_type"), msg.get("error_msg")))


if __name__ == "__main__":
    main()
