//! `heapsoc inspect --validate`: the board against the DT bindings, with dt-schema's
//! `dt-validate` (the `dtschema` package on PyPI), the way `make dtbs_check` does it: the
//! kernel tree's `Documentation/devicetree/bindings` plus the prototype's own schema
//! directories, processed once by `dt-mk-schema` (cached), then `dt-validate` on the board's
//! DTB. Its diagnostics come back as heapsoc lists its own findings: node, property, message.

use std::path::{Path, PathBuf};
use std::process::Command;

/// One binding violation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub node: String,
    /// The property the message is about, when dt-validate says.
    pub property: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.property {
            Some(p) => write!(f, "{}: {p}: {}", self.node, self.message),
            None => write!(f, "{}: {}", self.node, self.message),
        }
    }
}

/// What to install when dt-schema is missing.
pub const INSTALL: &str = "pip install dtschema (e.g. python3 -m venv ~/.local/dtschema && ~/.local/dtschema/bin/pip install dtschema, then put ~/.local/dtschema/bin in PATH)";

fn tool(name: &str) -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{name} (dt-schema) is not installed: {INSTALL}"))
}

/// The kernel tree a board file lies in (its `Documentation/devicetree/bindings`).
pub fn bindings_of(board_file: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(board_file).ok()?;
    abs.ancestors()
        .map(|a| a.join("Documentation/devicetree/bindings"))
        .find(|b| b.is_dir())
}

/// The newest modification time and the number of files under `dir` (a cache key part).
fn stamp(dir: &Path, newest: &mut u64, count: &mut u64) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            stamp(&p, newest, count);
        } else if let Ok(m) = e.metadata() {
            *count += 1;
            let t = m
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            *newest = (*newest).max(t);
        }
    }
}

/// The processed schema for `dirs` (built with dt-mk-schema once per set of inputs, kept
/// under `cache`).
fn processed_schema(dirs: &[PathBuf], cache: &Path) -> Result<PathBuf, String> {
    let mk = tool("dt-mk-schema")?;
    let version = Command::new(&mk)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let mut key = vec![version.into_bytes()];
    for d in dirs {
        let (mut newest, mut count) = (0, 0);
        stamp(d, &mut newest, &mut count);
        key.push(format!("{}:{newest}:{count}", d.display()).into_bytes());
    }
    let out = cache.join(format!(
        "processed-schema-{}.json",
        crate::kcidb::fingerprint(key.iter().map(Vec::as_slice))
    ));
    if out.is_file() {
        return Ok(out);
    }
    std::fs::create_dir_all(cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let tmp = out.with_extension("tmp");
    eprintln!(
        "heapsoc: processing the binding schemas with dt-mk-schema (once; cached in {})",
        cache.display()
    );
    let run = Command::new(&mk)
        .arg("-j")
        .arg("-o")
        .arg(&tmp)
        .args(dirs)
        .output()
        .map_err(|e| format!("{}: {e}", mk.display()))?;
    if !run.status.success() {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!(
            "dt-mk-schema failed on {}: {}",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
            String::from_utf8_lossy(&run.stderr)
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no message")
        ));
    }
    std::fs::rename(&tmp, &out).map_err(|e| format!("{}: {e}", out.display()))?;
    Ok(out)
}

/// Validates `dtb` against the bindings in `dirs`; `work` holds the DTB and the report.
pub fn validate(
    dtb: &[u8],
    dirs: &[PathBuf],
    cache: &Path,
    work: &Path,
) -> Result<Vec<Violation>, String> {
    let validate = tool("dt-validate")?;
    let schema = processed_schema(dirs, cache)?;
    let dtb_path = work.join("board.dtb");
    let json = work.join("dt-validate.json");
    std::fs::write(&dtb_path, dtb).map_err(|e| format!("{}: {e}", dtb_path.display()))?;
    let run = Command::new(&validate)
        .arg("-s")
        .arg(&schema)
        .arg("--json-output")
        .arg(&json)
        .arg(&dtb_path)
        .output()
        .map_err(|e| format!("{}: {e}", validate.display()))?;
    let text = std::fs::read_to_string(&json).map_err(|_| {
        format!(
            "dt-validate wrote no report (exit {}): {}",
            run.status,
            String::from_utf8_lossy(&run.stderr)
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no message")
        )
    })?;
    parse_report(&text)
}

/// dt-validate's `--json-output`: a list of diagnostics (or an object holding one).
pub fn parse_report(text: &str) -> Result<Vec<Violation>, String> {
    let v: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("dt-validate's report: {e}"))?;
    let list = match &v {
        serde_json::Value::Array(a) => a.clone(),
        serde_json::Value::Object(o) => o
            .values()
            .find_map(|x| x.as_array().cloned())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut out = Vec::new();
    for d in list {
        let s = |k: &str| d.get(k).and_then(|x| x.as_str()).map(str::to_string);
        let node = s("node")
            .or_else(|| s("nodename"))
            .unwrap_or_else(|| "/".into());
        let property = s("property_path").filter(|p| !p.is_empty());
        let message = s("message").unwrap_or_else(|| "no message".into());
        let v = Violation {
            node,
            property,
            message: message.replace('\n', " "),
        };
        if !out.contains(&v) {
            out.push(v);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diagnostics_become_node_property_message() {
        let report = r#"[
            {"type": "validation", "level": "error", "file": "board.dtb", "line": null,
             "node": "/reserved-memory/carveout@5f000000", "nodename": "carveout@5f000000",
             "property_path": "compatible", "message": "'heapsoc,carvout-heap' is not one of ['heapsoc,carveout-heap']"},
            {"type": "validation", "level": "error", "node": "/", "property_path": "",
             "message": "'model' is a required property"}
        ]"#;
        let v = parse_report(report).unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(
            v[0].to_string(),
            "/reserved-memory/carveout@5f000000: compatible: 'heapsoc,carvout-heap' is not one of ['heapsoc,carveout-heap']"
        );
        assert_eq!(v[1].to_string(), "/: 'model' is a required property");
        assert!(parse_report("not json").is_err());
    }

    #[test]
    fn a_board_in_a_kernel_tree_finds_its_bindings() {
        let dir = tempfile::tempdir().unwrap();
        let bindings = dir.path().join("Documentation/devicetree/bindings");
        let dts = dir.path().join("arch/arm64/boot/dts/vendor/board.dts");
        std::fs::create_dir_all(&bindings).unwrap();
        std::fs::create_dir_all(dts.parent().unwrap()).unwrap();
        std::fs::write(&dts, "/dts-v1/; / { };").unwrap();
        assert_eq!(
            bindings_of(&dts).unwrap(),
            std::fs::canonicalize(&bindings).unwrap()
        );
    }
}
