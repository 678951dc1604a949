//! TAP and JUnit from real guest consoles.

use tap::{parse, Outcome};

const QEMU_ALL: &str = include_str!("data/qemu-all.console");

#[test]
fn the_reference_run_has_two_programs_48_and_64_points() {
    let r = parse(QEMU_ALL);
    assert_eq!(r.exit_status, Some(0));
    assert_eq!(r.suite.planned, Some(2));
    let names: Vec<&str> = r.suite.tests.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "selftests: heapsoc: dmabuf-heap",
            "selftests: heapsoc: heap-placement"
        ]
    );
    assert_eq!(r.suite.tests[0].subtests.tests.len(), 48);
    assert_eq!(r.suite.tests[0].subtests.planned, Some(48));
    assert_eq!(r.suite.tests[1].subtests.tests.len(), 64);
    let t = r.suite.totals();
    assert_eq!((t.pass, t.fail, t.skip), (112, 0, 0));
    assert!(r.success());
}

#[test]
fn a_failed_point_fails_the_run() {
    let broken = QEMU_ALL.replacen("# ok 3 ", "# not ok 3 ", 1);
    let r = parse(&broken);
    assert_eq!(r.suite.tests[0].subtests.tests[2].outcome, Outcome::Fail);
    assert!(!r.success());
    assert_eq!(r.suite.totals().fail, 1);
}

#[test]
fn a_truncated_console_counts_missing_tests_and_no_exit() {
    let cut: String = QEMU_ALL
        .lines()
        .take(150)
        .map(|l| format!("{l}\n"))
        .collect();
    let r = parse(&cut);
    assert_eq!(r.exit_status, None);
    assert_eq!(r.suite.missing(), 2, "neither program reported its result");
    assert!(!r.success());
    let xml = tap::junit::to_xml(
        &r,
        &[("timeout".into(), "ran out of guest instructions".into())],
    );
    assert!(xml.contains("the guest never printed HEAPSOC-EXIT"));
    assert!(xml.contains("ran out of guest instructions"));
}

#[test]
fn skip_and_todo_directives_are_read() {
    let r = parse("TAP version 13\n1..3\nok 1 - a # SKIP no heap\nnot ok 2 - b # TODO later\nnot ok 3 c\nHEAPSOC-EXIT: 1\n");
    let o: Vec<Outcome> = r.suite.tests.iter().map(|t| t.outcome).collect();
    assert_eq!(o, [Outcome::Skip, Outcome::Todo, Outcome::Fail]);
    assert_eq!(r.suite.tests[0].directive.as_deref(), Some("no heap"));
    assert_eq!(r.exit_status, Some(1));
}

#[test]
fn kernel_messages_before_the_stream_are_ignored() {
    let r = parse("# not TAP yet\nok 7 looks like tap but no stream\nTAP version 13\n1..1\nok 1 x\nHEAPSOC-EXIT: 0\n");
    assert_eq!(
        r.suite.tests.len(),
        2,
        "an ok line is a result wherever it appears"
    );
    let r = parse("[    0.1] # kernel\nTAP version 13\n1..1\nok 1 x\nHEAPSOC-EXIT: 0\n");
    assert_eq!(r.suite.tests.len(), 1);
    assert!(r.success());
}

#[test]
fn junit_has_one_suite_per_program_and_escapes_names() {
    let r = parse(QEMU_ALL);
    let xml = tap::junit::to_xml(&r, &[]);
    assert_eq!(xml.matches("<testsuite ").count(), 2);
    assert_eq!(xml.matches("<testcase ").count(), 112);
    assert!(xml.contains("name=\"selftests: heapsoc: dmabuf-heap\" tests=\"48\" failures=\"0\""));
    assert!(!xml.contains("<failure"));
    let odd = parse("TAP version 13\n1..1\nnot ok 1 a<b & \"c\"\nHEAPSOC-EXIT: 1\n");
    let xml = tap::junit::to_xml(&odd, &[]);
    assert!(xml.contains("a&lt;b &amp; &quot;c&quot;"));
}

/// The kselftest's ids of one heap, in order.
fn kselftest_ids(console: &str, heap: &str) -> Vec<String> {
    let r = parse(console);
    r.suite.tests[0]
        .subtests
        .tests
        .iter()
        .map(|t| t.id.clone())
        .filter(|id| id.starts_with(&format!("{heap}: ")))
        .collect()
}

#[test]
fn kselftest_cases_are_named_after_their_heap_and_test() {
    let ids = kselftest_ids(QEMU_ALL, "system");
    assert_eq!(ids.len(), 12);
    assert_eq!(ids[0], "system: allocation and importing: Import buffer");
    assert_eq!(
        ids[2],
        "system: alloced 4k buffers are zeroed: Allocate and fill a bunch of buffers"
    );
    assert_eq!(
        ids[4],
        "system: alloced 1024k buffers are zeroed: Allocate and fill a bunch of buffers"
    );
    assert_eq!(
        ids[9],
        "system: expected error cases: Error expected on invalid heap flags"
    );
    assert_eq!(
        ids[10],
        "system: expected error cases: Error expected on invalid heap flags (2)"
    );
    assert_eq!(
        ids[11],
        "system: fd leak when copy_to_user() fails: fd leak on EFAULT"
    );
    let r = parse(QEMU_ALL);
    let all: Vec<&str> = r.suite.tests[0]
        .subtests
        .tests
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    let unique: std::collections::HashSet<&&str> = all.iter().collect();
    assert_eq!(unique.len(), 48, "ids are unique within the program");
}

#[test]
fn kselftest_names_do_not_depend_on_the_other_heaps() {
    // The same heap's points, numbered differently and with other values, on a board
    // whose only heap is `system`.
    let start = QEMU_ALL
        .find("# # Testing heap: system")
        .expect("system heap section");
    let end = QEMU_ALL[start..]
        .find("# # Totals")
        .map(|e| start + e)
        .expect("totals");
    let body = QEMU_ALL[start..end]
        .replace("before=19 after=19", "before=3 after=3")
        .replace("# ok 37 ", "# ok 1 ")
        .replace("# ok 48 ", "# ok 12 ");
    let alone = format!(
        "TAP version 13\n1..1\n# selftests: heapsoc: dmabuf-heap\n# TAP version 13\n# 1..12\n{body}ok 1 selftests: heapsoc: dmabuf-heap\nHEAPSOC-EXIT: 0\n"
    );
    assert_eq!(
        kselftest_ids(&alone, "system"),
        kselftest_ids(QEMU_ALL, "system")
    );
}

#[test]
fn junit_uses_the_stable_names_and_keeps_the_printed_line() {
    let xml = tap::junit::to_xml(&parse(QEMU_ALL), &[]);
    assert!(xml.contains("name=\"linux,cma: allocation and importing: Import buffer\""));
    assert!(!xml.contains("name=\"13 Import buffer 0\""));
    assert!(
        xml.contains("ok 13 Import buffer 0"),
        "the printed line is kept in system-out"
    );
}

#[test]
fn failures_are_listed_by_program_and_stable_name() {
    let broken = QEMU_ALL.replacen(
        "# ok 13 Import buffer 0",
        "# not ok 13 Import buffer -12",
        1,
    );
    let r = parse(&broken);
    assert_eq!(
        r.failures(),
        ["dmabuf-heap: linux,cma: allocation and importing: Import buffer"]
    );
    assert!(parse(QEMU_ALL).failures().is_empty());
}
