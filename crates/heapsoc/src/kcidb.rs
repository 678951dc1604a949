//! `heapsoc test --kcidb FILE`: the run's results as KernelCI KCIDB I/O data (schema
//! v5.3, what the `kcidb-io` package validates), ready for `kcidb-submit`.
//!
//! One test object per guest test case, its `path` built from names that are the same on
//! every board and every run (`heapsoc.dmabuf-heap.system.allocation-and-importing.import-buffer`:
//! program, heap, group, case, see [`tap::stable_names`]); one per test program; the
//! placement verdict as `heapsoc.placement-verdict` with the report summary in `misc`;
//! problems of the run itself (a panic, a timeout) as `heapsoc.run.NAME` with status
//! ERROR. `environment.compatible` is the board's root `compatible`.

use serde_json::{json, Value};

/// The schema version written (kcidb-io's latest).
pub const VERSION: (u32, u32) = (5, 3);

/// Who submits and what was tested: KCIDB ids are `ORIGIN:...`.
#[derive(Debug, Clone)]
pub struct Ids {
    /// The CI system (`[a-z0-9_]+`).
    pub origin: String,
    /// The tested build's id, `ORIGIN:...`.
    pub build_id: String,
    /// Makes this run's test ids unique: `ORIGIN:RUN:PATH`.
    pub run_id: String,
}

/// Whether `origin` is what KCIDB accepts as an origin.
pub fn valid_origin(origin: &str) -> bool {
    !origin.is_empty()
        && origin
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// What one run produced.
pub struct Run<'a> {
    pub board: &'a board::Board,
    pub plan: &'a str,
    pub report: &'a tap::Report,
    pub placement: &'a ledger::report::Placement,
    pub run_failures: &'a [(String, String)],
    /// Unix time the run started, in seconds.
    pub started: std::time::SystemTime,
    pub duration: std::time::Duration,
    /// The CPU backend that ran the guest.
    pub backend: &'a vmm::vm::Backend,
}

/// One element of a test path: KCIDB allows `[a-zA-Z0-9_-]`; anything else (spaces, `@`,
/// `,`, `:`) becomes one `-`, and letters are lowered (`display-cma@58000000` ->
/// `display-cma-58000000`, `Import buffer (2)` -> `import-buffer-2`).
pub fn path_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

fn status(o: tap::Outcome) -> &'static str {
    match o {
        tap::Outcome::Pass => "PASS",
        tap::Outcome::Fail => "FAIL",
        // An expected failure (`# TODO`) says nothing about the code under test.
        tap::Outcome::Skip | tap::Outcome::Todo => "SKIP",
    }
}

/// `t` as RFC 3339 UTC (`2026-11-28T17:40:00.000000+00:00`).
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let d = t.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (proleptic Gregorian, 400-year eras).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        rem / 3600,
        rem / 60 % 60,
        rem % 60,
        d.subsec_micros()
    )
}

/// The KCIDB I/O document for `run`.
pub fn document(run: &Run, ids: &Ids) -> Value {
    let compatible: Vec<&str> = run
        .board
        .compatible
        .iter()
        .map(String::as_str)
        .filter(|c| !c.is_empty() && !c.contains([' ', '\0']))
        .collect();
    let environment = json!({
        "compatible": compatible,
        "comment": format!(
            "heapsoc ({}) {}, plan {}",
            match run.backend {
                vmm::vm::Backend::Kvm { .. } => "KVM",
                vmm::vm::Backend::Interpreter { .. } => "emulated",
            },
            run.board.model.as_deref().unwrap_or("board without a model"),
            run.plan
        ),
    });
    let start_time = rfc3339(run.started);
    let mut tests: Vec<Value> = Vec::new();
    let mut used = std::collections::HashSet::new();
    let mut push = |path: String, status: &str, excerpt: Option<String>, misc: Option<Value>| {
        // Two names that differ only in what a path cannot hold stay two tests.
        let mut unique = path.clone();
        let mut n = 1;
        while !used.insert(unique.clone()) {
            n += 1;
            unique = format!("{path}-{n}");
        }
        let mut t = json!({
            "id": format!("{}:{}:{unique}", ids.origin, ids.run_id),
            "build_id": ids.build_id,
            "origin": ids.origin,
            "path": unique,
            "status": status,
            "environment": environment,
            "start_time": start_time,
        });
        if let Some(e) = excerpt.filter(|e| !e.is_empty()) {
            // The schema's limit, on a character boundary.
            let cut = e
                .char_indices()
                .map(|(i, _)| i)
                .take_while(|&i| i <= 16_000)
                .last()
                .unwrap_or(0);
            let e = if e.len() > 16_000 { &e[..cut] } else { &e[..] };
            t["log_excerpt"] = Value::String(e.replace('\0', ""));
        }
        if let Some(m) = misc {
            t["misc"] = m;
        }
        tests.push(t);
    };
    for program in &run.report.suite.tests {
        let name = program.name.rsplit(": ").next().unwrap_or(&program.name);
        let base = format!("heapsoc.{}", path_part(name));
        for case in &program.subtests.tests {
            let parts: Vec<String> = case.id.split(": ").map(path_part).collect();
            let excerpt = case
                .diagnostics
                .iter()
                .cloned()
                .chain(std::iter::once(case.name.clone()))
                .collect::<Vec<_>>()
                .join("\n");
            push(
                format!("{base}.{}", parts.join(".")),
                status(case.outcome),
                Some(excerpt),
                case.directive.as_ref().map(|d| json!({ "directive": d })),
            );
        }
        let missing = program.subtests.missing();
        push(
            base,
            status(program.outcome),
            (missing > 0).then(|| format!("{missing} planned test point(s) never reported")),
            Some(json!({ "tap": program.name })),
        );
    }
    let t = run.report.suite.totals();
    let findings: Vec<String> = run
        .placement
        .findings
        .iter()
        .map(|f| f.to_string())
        .collect();
    push(
        "heapsoc.placement-verdict".to_string(),
        if run.placement.passed { "PASS" } else { "FAIL" },
        (!findings.is_empty()).then(|| findings.join("\n")),
        Some(json!({
            "findings": findings,
            "report": ledger::report::text(run.placement),
            "tap": { "pass": t.pass, "fail": t.fail, "skip": t.skip },
            "guest_exit": run.report.exit_status,
            "duration_s": run.duration.as_secs_f64(),
        })),
    );
    for (name, message) in run.run_failures {
        push(
            format!("heapsoc.run.{}", path_part(name)),
            "ERROR",
            Some(message.clone()),
            None,
        );
    }
    json!({
        "version": { "major": VERSION.0, "minor": VERSION.1 },
        "tests": tests,
    })
}

/// A short stable fingerprint of byte strings (FNV-1a, 64 bits): the default build and
/// run ids, the same for the same inputs.
pub fn fingerprint<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in part.iter().chain(&(part.len() as u64).to_le_bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parts_hold_only_what_kcidb_allows() {
        assert_eq!(path_part("display-cma@58000000"), "display-cma-58000000");
        assert_eq!(path_part("linux,cma"), "linux-cma");
        assert_eq!(path_part("Import buffer (2)"), "import-buffer-2");
        assert_eq!(path_part("dmabuf-heap"), "dmabuf-heap");
        assert_eq!(path_part("  "), "_");
        for p in ["a b", "x:y", "é"] {
            assert!(path_part(p)
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
    }

    #[test]
    fn times_are_rfc3339_utc() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_795_887_615_123_456);
        assert_eq!(rfc3339(t), "2026-11-28T17:40:15.123456+00:00");
        assert_eq!(
            rfc3339(std::time::UNIX_EPOCH),
            "1970-01-01T00:00:00.000000+00:00"
        );
        let leap = std::time::UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000000+00:00");
    }

    #[test]
    fn origins_are_lowercase_words() {
        assert!(valid_origin("heapsoc"));
        assert!(valid_origin("my_lab2"));
        assert!(!valid_origin("My-Lab"));
        assert!(!valid_origin(""));
    }

    #[test]
    fn fingerprints_separate_their_parts() {
        assert_eq!(fingerprint([&b"ab"[..]]), fingerprint([&b"ab"[..]]));
        assert_ne!(
            fingerprint([&b"ab"[..], &b"c"[..]]),
            fingerprint([&b"a"[..], &b"bc"[..]])
        );
    }
}
