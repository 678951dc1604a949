#!/usr/bin/env python3
"""Check `heapsoc test --kcidb` output with the kcidb-io package (tests/heapsoc-boot.sh).

usage: kcidb-check.py FIRST SECOND OTHER_BOARD BAD
  every file validates against kcidb-io's latest schema;
  FIRST and SECOND (two identical runs) have the same paths and ids;
  OTHER_BOARD (another board) names the cases of the heaps both boards have the same way;
  BAD (plan bad-scanout) has a failing heapsoc.placement-verdict.
"""
import json
import sys

import kcidb_io


def load(path):
    with open(path) as f:
        data = json.load(f)
    kcidb_io.schema.LATEST.validate_exactly(data)
    return data


def paths(data):
    return [t["path"] for t in data["tests"]]


def by_path(data):
    return {t["path"]: t for t in data["tests"]}


def main():
    first, second, other, bad = (load(p) for p in sys.argv[1:5])
    schema = kcidb_io.schema.LATEST
    print(f"kcidb-check: 4 files valid against KCIDB schema v{schema.major}.{schema.minor}")

    assert paths(first) == paths(second), "paths differ between two identical runs"
    assert [t["id"] for t in first["tests"]] == [t["id"] for t in second["tests"]], \
        "ids differ between two identical runs"
    tests = by_path(first)
    cases = [p for p in tests if p.startswith("heapsoc.dmabuf-heap.")]
    assert len(cases) >= 48, f"{len(cases)} kselftest cases"
    assert all(tests[p]["status"] == "PASS" for p in cases), "a kselftest case did not pass"
    want = "heapsoc.dmabuf-heap.system.allocation-and-importing.import-buffer"
    assert want in tests, f"no {want}"
    verdict = tests["heapsoc.placement-verdict"]
    assert verdict["status"] == "PASS", verdict
    assert "verdict: pass" in verdict["misc"]["report"], verdict["misc"]
    compatible = first["tests"][0]["environment"]["compatible"]
    assert compatible and compatible[0].startswith("heapsoc,"), compatible

    # another board: the heaps both have give the same paths
    heaps = lambda d: {p.split(".")[2] for p in paths(d) if p.startswith("heapsoc.dmabuf-heap.")}
    common = heaps(first) & heaps(other)
    assert "system" in common, common
    for h in sorted(common):
        mine = [p for p in paths(first) if p.startswith(f"heapsoc.dmabuf-heap.{h}.")]
        theirs = [p for p in paths(other) if p.startswith(f"heapsoc.dmabuf-heap.{h}.")]
        assert mine == theirs, f"heap {h}: the case paths differ between boards"
    print(f"kcidb-check: {len(cases)} kselftest cases, paths the same across two runs and, for "
          f"heaps {', '.join(sorted(common))}, across boards")

    bad_verdict = by_path(bad)["heapsoc.placement-verdict"]
    assert bad_verdict["status"] == "FAIL", bad_verdict
    assert "[carveout]" in bad_verdict["log_excerpt"], bad_verdict
    print(f"kcidb-check: bad scanout: placement-verdict FAIL: {bad_verdict['log_excerpt'].splitlines()[0]}")


if __name__ == "__main__":
    main()
