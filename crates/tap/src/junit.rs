//! JUnit XML for CI systems: one `<testsuite>` per guest test program, one `<testcase>`
//! per TAP test point, and a failing case for each run-level problem (missing tests, no
//! exit marker, a timeout or a guest panic the caller reports).

use std::fmt::Write;

use crate::{Outcome, Report, TestPoint};

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 has no other control characters.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

struct Case {
    class: String,
    name: String,
    failure: Option<String>,
    skipped: Option<String>,
    output: String,
}

fn case(class: &str, p: &TestPoint) -> Case {
    let number = p.number.map(|n| format!("{n} ")).unwrap_or_default();
    Case {
        class: class.to_string(),
        name: p.id.clone(),
        failure: (p.outcome == Outcome::Fail).then(|| format!("not ok {number}{}", p.name)),
        skipped: (p.outcome == Outcome::Skip).then(|| p.directive.clone().unwrap_or_default()),
        // The point as printed (with its values) after what the program said before it.
        output: p
            .diagnostics
            .iter()
            .cloned()
            .chain(std::iter::once(format!(
                "{} {number}{}",
                if p.outcome == Outcome::Fail {
                    "not ok"
                } else {
                    "ok"
                },
                p.name
            )))
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn write_suite(out: &mut String, name: &str, cases: &[Case]) {
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let skipped = cases.iter().filter(|c| c.skipped.is_some()).count();
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\">",
        escape(name),
        cases.len()
    );
    for c in cases {
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\"",
            escape(&c.class),
            escape(&c.name)
        );
        if c.failure.is_none() && c.skipped.is_none() && c.output.is_empty() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        if let Some(f) = &c.failure {
            let _ = writeln!(out, "      <failure message=\"{}\"/>", escape(f));
        }
        if let Some(s) = &c.skipped {
            let _ = writeln!(out, "      <skipped message=\"{}\"/>", escape(s));
        }
        if !c.output.is_empty() {
            let _ = writeln!(out, "      <system-out>{}</system-out>", escape(&c.output));
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n");
}

/// The report as JUnit XML; `run_failures` are (name, message) pairs for problems of the
/// run itself (timeout, guest panic) that the console alone does not show.
pub fn to_xml(report: &Report, run_failures: &[(String, String)]) -> String {
    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"heapsoc\">\n");
    let mut top: Vec<Case> = Vec::new();
    for p in &report.suite.tests {
        if p.subtests.tests.is_empty() && p.subtests.planned.is_none() {
            top.push(case("heapsoc", p));
            continue;
        }
        let class = p.name.rsplit(": ").next().unwrap_or(&p.name).to_string();
        let mut cases: Vec<Case> = p.subtests.tests.iter().map(|s| case(&class, s)).collect();
        let missing = p.subtests.missing();
        if missing > 0 {
            cases.push(Case {
                class: class.clone(),
                name: "missing test points".into(),
                failure: Some(format!(
                    "plan announced {} test points, {missing} never reported",
                    p.subtests.planned.unwrap_or(0)
                )),
                skipped: None,
                output: String::new(),
            });
        }
        if p.outcome == Outcome::Fail && cases.iter().all(|c| c.failure.is_none()) {
            cases.push(Case {
                class: class.clone(),
                name: "program exit status".into(),
                failure: Some(format!("not ok: {}", p.name)),
                skipped: None,
                output: String::new(),
            });
        }
        write_suite(&mut out, &p.name, &cases);
    }
    let missing = report.suite.missing();
    if missing > 0 {
        top.push(Case {
            class: "heapsoc".into(),
            name: "missing test programs".into(),
            failure: Some(format!(
                "{missing} test programs announced by the plan never reported"
            )),
            skipped: None,
            output: String::new(),
        });
    }
    if report.exit_status != Some(0) {
        top.push(Case {
            class: "heapsoc".into(),
            name: "guest exit status".into(),
            failure: Some(match report.exit_status {
                Some(s) => format!("the guest reported HEAPSOC-EXIT: {s}"),
                None => "the guest never printed HEAPSOC-EXIT".into(),
            }),
            skipped: None,
            output: String::new(),
        });
    }
    for (name, message) in run_failures {
        top.push(Case {
            class: "heapsoc".into(),
            name: name.clone(),
            failure: Some(message.clone()),
            skipped: None,
            output: String::new(),
        });
    }
    if !top.is_empty() {
        write_suite(&mut out, "heapsoc", &top);
    }
    out.push_str("</testsuites>\n");
    out
}
