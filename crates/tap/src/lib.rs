//! The guest's test results, read from its console.
//!
//! The guest prints TAP in the kselftest runner's layout: one top-level result line per
//! test program, with the program's own TAP nested above it, each line prefixed by `# `:
//!
//! ```text
//! TAP version 13
//! 1..2
//! # selftests: heapsoc: dmabuf-heap
//! # TAP version 13
//! # 1..48
//! # ok 1 Testing heap: system
//! # # Totals: pass:48 fail:0 ...
//! ok 1 selftests: heapsoc: dmabuf-heap
//! ...
//! HEAPSOC-EXIT: 0
//! ```
//! Kernel messages interleaved with it are ignored. [`junit`] turns the result into JUnit XML.

pub mod junit;

use serde::Serialize;

/// The marker line `/init` prints last, with the guest's overall status.
pub const EXIT_MARKER: &str = "HEAPSOC-EXIT:";

/// Outcome of one test point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Fail,
    Skip,
    /// `not ok ... # TODO`: an expected failure.
    Todo,
}

/// One `ok`/`not ok` line, with the subtests printed before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TestPoint {
    pub number: Option<u32>,
    pub name: String,
    /// A name for CI dashboards that stays the same across boards and runs: the heap and
    /// section the program announced before the point, its description without the values
    /// it printed, and `(2)`, `(3)`, ... where that repeats within the program (see
    /// [`stable_names`]).
    pub id: String,
    pub outcome: Outcome,
    /// The reason after `# SKIP` / `# TODO`.
    pub directive: Option<String>,
    /// Diagnostic lines (`# ...`) printed since the previous test point.
    pub diagnostics: Vec<String>,
    pub subtests: Suite,
}

/// A TAP stream at one nesting level.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Suite {
    /// The plan `1..N`, if one was printed.
    pub planned: Option<u32>,
    pub tests: Vec<TestPoint>,
}

impl Suite {
    /// Test points the plan announced but the stream never printed.
    pub fn missing(&self) -> u32 {
        self.planned
            .map_or(0, |p| p.saturating_sub(self.tests.len() as u32))
    }

    /// Whether every test point (and every nested one) passed, was skipped or TODO, and
    /// none is missing.
    pub fn passed(&self) -> bool {
        self.missing() == 0
            && self
                .tests
                .iter()
                .all(|t| t.outcome != Outcome::Fail && t.subtests.passed())
    }

    /// Counts (pass, fail, skip) over the leaves of the tree: a test point with subtests
    /// counts as its subtests, plus its missing ones as failures.
    pub fn totals(&self) -> Totals {
        let mut t = Totals {
            fail: self.missing(),
            ..Totals::default()
        };
        for p in &self.tests {
            if p.subtests.tests.is_empty() && p.subtests.planned.is_none() {
                match p.outcome {
                    Outcome::Pass | Outcome::Todo => t.pass += 1,
                    Outcome::Fail => t.fail += 1,
                    Outcome::Skip => t.skip += 1,
                }
            } else {
                let s = p.subtests.totals();
                t.pass += s.pass;
                t.fail += s.fail;
                t.skip += s.skip;
                // A program that failed although its own points passed (crash, exit code).
                if p.outcome == Outcome::Fail && s.fail == 0 {
                    t.fail += 1;
                }
            }
        }
        t
    }
}

/// Leaf counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Totals {
    pub pass: u32,
    pub fail: u32,
    pub skip: u32,
}

/// Everything read from a console.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Report {
    pub suite: Suite,
    /// The status after `HEAPSOC-EXIT:`, if the guest got that far.
    pub exit_status: Option<i32>,
}

impl Report {
    /// Every failed test point as `PROGRAM: ID` (the names JUnit uses), in order; a
    /// program that failed with all its points passing, and points missing from a plan,
    /// are listed too.
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        for p in &self.suite.tests {
            let program = p.name.rsplit(": ").next().unwrap_or(&p.name);
            let leaves = &p.subtests.tests;
            if leaves.is_empty() && p.subtests.planned.is_none() {
                if p.outcome == Outcome::Fail {
                    out.push(p.id.clone());
                }
                continue;
            }
            let before = out.len();
            out.extend(
                leaves
                    .iter()
                    .filter(|t| t.outcome == Outcome::Fail)
                    .map(|t| format!("{program}: {}", t.id)),
            );
            let missing = p.subtests.missing();
            if missing > 0 {
                out.push(format!(
                    "{program}: {missing} planned test point(s) never reported"
                ));
            }
            if p.outcome == Outcome::Fail && out.len() == before {
                out.push(format!("{program}: exited with a failure"));
            }
        }
        if self.suite.missing() > 0 {
            out.push(format!(
                "{} planned test program(s) never reported",
                self.suite.missing()
            ));
        }
        out
    }

    /// Whether the run counts as a success: the guest reached its exit marker with
    /// status 0 and every test passed.
    pub fn success(&self) -> bool {
        self.exit_status == Some(0) && self.suite.passed() && !self.suite.tests.is_empty()
    }
}

enum Line<'a> {
    Version,
    Plan(u32),
    Point(TestPoint),
    Diagnostic(&'a str),
    Other,
}

fn classify(line: &str) -> Line<'_> {
    if line.starts_with("TAP version") {
        return Line::Version;
    }
    if let Some(rest) = line.strip_prefix("1..") {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if let Ok(n) = digits.parse() {
            return Line::Plan(n);
        }
    }
    if let Some(d) = line.strip_prefix('#') {
        return Line::Diagnostic(d.strip_prefix(' ').unwrap_or(d));
    }
    let (ok, rest) = if let Some(r) = line.strip_prefix("not ok") {
        (false, r)
    } else if let Some(r) = line.strip_prefix("ok") {
        (true, r)
    } else {
        return Line::Other;
    };
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return Line::Other;
    }
    let rest = rest.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    let number = digits.parse().ok();
    let rest = rest[digits.len()..].trim_start();
    let rest = rest.strip_prefix("- ").unwrap_or(rest);
    let (name, directive) = match rest.split_once(" # ") {
        Some((n, d)) => (n.trim(), Some(d.trim())),
        None => (rest.trim(), None),
    };
    let upper = directive.map(str::to_ascii_uppercase);
    let outcome = match (ok, upper.as_deref()) {
        (_, Some(d)) if d.starts_with("SKIP") => Outcome::Skip,
        (false, Some(d)) if d.starts_with("TODO") => Outcome::Todo,
        (true, _) => Outcome::Pass,
        (false, _) => Outcome::Fail,
    };
    let directive = directive.map(|d| {
        d.split_once(char::is_whitespace)
            .map_or(String::new(), |(_, reason)| reason.trim().to_string())
    });
    Line::Point(TestPoint {
        number,
        name: name.to_string(),
        id: name.to_string(),
        outcome,
        directive,
        diagnostics: Vec::new(),
        subtests: Suite::default(),
    })
}

/// Parses one nesting level; `lines` are already stripped of the outer prefixes.
fn parse_level(lines: &[&str]) -> Suite {
    let mut suite = Suite::default();
    let mut pending_children: Vec<&str> = Vec::new();
    let mut diagnostics: Vec<String> = Vec::new();
    let mut in_stream = false;
    for &line in lines {
        match classify(line) {
            Line::Version => in_stream = true,
            Line::Plan(n) => {
                in_stream = true;
                suite.planned = Some(n);
            }
            Line::Point(mut p) => {
                in_stream = true;
                p.subtests = parse_level(&pending_children);
                stable_names(&mut p.subtests);
                p.diagnostics = std::mem::take(&mut diagnostics);
                pending_children.clear();
                suite.tests.push(p);
            }
            Line::Diagnostic(d) if in_stream => {
                // A nested line is a diagnostic of this level too, until it proves to be
                // part of a child stream (parse_level of the children decides).
                pending_children.push(d);
                diagnostics.push(d.to_string());
            }
            Line::Diagnostic(_) | Line::Other => {}
        }
    }
    suite
}

/// Reads the console output of a guest run.
pub fn parse(console: &str) -> Report {
    let mut lines = Vec::new();
    let mut exit_status = None;
    for raw in console.lines() {
        let line = raw.trim_end_matches('\r');
        if let Some(status) = line.trim().strip_prefix(EXIT_MARKER) {
            exit_status = status.trim().parse().ok();
            continue;
        }
        lines.push(line);
    }
    Report {
        suite: parse_level(&lines),
        exit_status,
    }
}

/// Gives each point of `suite` its stable [`TestPoint::id`].
///
/// The kselftest layout announces context in diagnostics before the points: the
/// dmabuf-heaps kselftest prints `Testing heap: NAME` before each heap's points and
/// `Testing alloced 4k buffers are zeroed:` before each group; its points end with values
/// (`Import buffer 0`, `fd leak on EFAULT: before=10 after=10`). The id is
/// `HEAP: GROUP: DESCRIPTION` with those values dropped, so that it names the same case
/// whatever the board's heaps and their order, and repeats get `(2)`, `(3)`, ...
pub fn stable_names(suite: &mut Suite) {
    let mut heap: Option<String> = None;
    let mut group: Option<String> = None;
    let mut seen: std::collections::HashMap<String, u32> = std::collections::HashMap::new();
    for p in &mut suite.tests {
        for d in &p.diagnostics {
            let d = d.trim();
            if let Some(h) = d.strip_prefix("Testing heap: ") {
                heap = Some(h.trim().to_string());
                group = None;
            } else if let Some(g) = d.strip_prefix("Testing ").and_then(|g| g.strip_suffix(':')) {
                group = Some(g.trim().to_string());
            }
        }
        let description = without_values(&p.name);
        let mut id = String::new();
        for part in [heap.as_deref(), group.as_deref()].into_iter().flatten() {
            if !description.starts_with(part) {
                id.push_str(part);
                id.push_str(": ");
            }
        }
        id.push_str(&description);
        let n = seen.entry(id.clone()).or_insert(0);
        *n += 1;
        p.id = if *n == 1 { id } else { format!("{id} ({n})") };
    }
}

/// `NAME` without the trailing values a test printed: words that are numbers (`0`, `-1`,
/// `0x4c000000`) or `key=number`, and a dangling `:` left before them.
fn without_values(name: &str) -> String {
    let is_value = |w: &str| {
        let v = w.split_once('=').map_or(w, |(_, v)| v);
        let v = v.trim_end_matches([',', ';', ')']);
        let v = v.strip_prefix('-').unwrap_or(v);
        let hex = v
            .strip_prefix("0x")
            .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()));
        hex || (!v.is_empty() && v.chars().all(|c| c.is_ascii_digit()))
    };
    let mut words: Vec<&str> = name.split_whitespace().collect();
    while words.len() > 1 && words.last().is_some_and(|w| is_value(w)) {
        words.pop();
    }
    let mut out = words.join(" ");
    while out.ends_with(':') {
        out.pop();
    }
    out
}
