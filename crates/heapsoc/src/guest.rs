//! Which kernel and initramfs a run boots.
//!
//! In order: `--kernel`/`--initrd`; `--guest DIR` or `HEAPSOC_GUEST=DIR` (a guest directory
//! as `guest-images/build.sh` writes it); the guest the source tree's `build.sh --print-dir`
//! names for the current inputs, when the binary runs where it was built (from build.sh's
//! lookup record while nothing it lists changed, else by running it); otherwise (an
//! installed or copied binary) the newest complete guest in the cache. A `--kernel` without
//! `--initrd` gets the default guest's initramfs, which carries the heap tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a run boots, and what to tell the user about the choice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guest {
    pub kernel: PathBuf,
    pub initrd: Option<PathBuf>,
    /// A line for stderr when the choice is not the obvious one.
    pub note: Option<String>,
}

/// Where to look; [`Lookup::from_env`] fills it from the process environment.
#[derive(Debug, Clone)]
pub struct Lookup {
    /// `guest-images/build.sh` of the source tree the binary was built from, if it exists.
    pub build_script: Option<PathBuf>,
    /// `HEAPSOC_GUEST`.
    pub guest_dir: Option<PathBuf>,
    /// The guest-image cache root (`HEAPSOC_CACHE`, else `$XDG_CACHE_HOME/heapsoc`, else
    /// `$HOME/.cache/heapsoc`), as build.sh computes it.
    pub cache: Option<PathBuf>,
}

/// The guest files a guest directory holds.
const KERNEL: &str = "Image";
const INITRD: &str = "initramfs.cpio.gz";
const MANIFEST: &str = "manifest.json";

/// Finding the guest failed; the message says what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct GuestError(String);

impl Lookup {
    pub fn from_env() -> Lookup {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../guest-images/build.sh");
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let cache = var("HEAPSOC_CACHE")
            .or_else(|| var("XDG_CACHE_HOME").map(|x| x.join("heapsoc")))
            .or_else(|| var("HOME").map(|h| h.join(".cache/heapsoc")));
        Lookup {
            build_script: script.is_file().then_some(script),
            guest_dir: var("HEAPSOC_GUEST"),
            cache,
        }
    }

    /// The guest build.sh's lookup record names for `script`'s source tree, when every
    /// file the record lists still has its recorded size and modification time (so the
    /// inputs, and their hash, are unchanged) and the guest there is complete.
    fn recorded_dir(&self, script: &Path) -> Option<PathBuf> {
        let tree = std::fs::canonicalize(script.parent()?).ok()?;
        // build.sh's sanitize: every byte outside [A-Za-z0-9._-] becomes '_'
        let name: String = tree
            .as_os_str()
            .as_encoded_bytes()
            .iter()
            .map(|&b| {
                if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                    b as char
                } else {
                    '_'
                }
            })
            .collect();
        let record = self.cache.as_ref()?.join("guest/lookup").join(name);
        let text = std::fs::read_to_string(record).ok()?;
        recorded_dir_of(&text)
    }

    /// The DT bindings of the kernel tree the guest build unpacked (the newest).
    pub fn kernel_bindings(&self) -> Option<PathBuf> {
        let src = self.cache.as_ref()?.join("downloads/src");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&src)
            .ok()?
            .flatten()
            .flat_map(|pkg| {
                std::fs::read_dir(pkg.path())
                    .into_iter()
                    .flatten()
                    .flatten()
            })
            .map(|tree| tree.path().join("Documentation/devicetree/bindings"))
            .filter(|b| b.is_dir())
            .collect();
        found.sort();
        found.pop()
    }

    /// The dtc of a kernel tree: its own `scripts/dtc/dtc` when built in the tree, else the
    /// one the guest build made for it (the guest build compiles the tree out of tree, in
    /// `kbuild/<source package>/`, and builds dtc there).
    pub fn kernel_tree_dtc(&self, tree: &board::KernelTree) -> Option<PathBuf> {
        if let Some(dtc) = tree.built_dtc() {
            return Some(dtc);
        }
        let package = tree.root.parent()?.file_name()?;
        let dtc = self
            .cache
            .as_ref()?
            .join("kbuild")
            .join(package)
            .join("scripts/dtc/dtc");
        dtc.is_file().then_some(dtc)
    }

    /// The guest to boot for these `--kernel`/`--initrd` arguments.
    pub fn locate(
        &self,
        kernel: Option<&Path>,
        initrd: Option<&Path>,
    ) -> Result<Guest, GuestError> {
        if let Some(k) = kernel {
            if let Some(i) = initrd {
                return Ok(Guest {
                    kernel: k.to_path_buf(),
                    initrd: Some(i.to_path_buf()),
                    note: None,
                });
            }
            return Ok(match self.default_dir() {
                Ok((dir, _)) => Guest {
                    kernel: k.to_path_buf(),
                    initrd: Some(dir.join(INITRD)),
                    note: Some(format!(
                        "--kernel without --initrd: booting it with the default guest's initramfs {} (the heap tests); --initrd FILE picks another",
                        dir.join(INITRD).display()
                    )),
                },
                Err(e) => Guest {
                    kernel: k.to_path_buf(),
                    initrd: None,
                    note: Some(format!(
                        "--kernel without --initrd and no default guest to take an initramfs from, so none is loaded (the kernel must carry its own): {e}"
                    )),
                },
            });
        }
        let (dir, note) = self.default_dir()?;
        Ok(Guest {
            kernel: dir.join(KERNEL),
            initrd: Some(initrd.map_or_else(|| dir.join(INITRD), Path::to_path_buf)),
            note,
        })
    }

    /// The default guest's directory, and a note when it was not the obvious choice.
    fn default_dir(&self) -> Result<(PathBuf, Option<String>), GuestError> {
        if let Some(dir) = &self.guest_dir {
            return if complete(dir) {
                Ok((dir.clone(), None))
            } else {
                Err(GuestError(format!(
                    "--guest/HEAPSOC_GUEST {}: not a built guest (it needs {KERNEL}, {INITRD} and {MANIFEST}, as guest-images/build.sh writes them)",
                    dir.display()
                )))
            };
        }
        if let Some(script) = &self.build_script {
            if let Some(dir) = self.recorded_dir(script) {
                return Ok((dir, None));
            }
            let out = Command::new(script).arg("--print-dir").output();
            return match out {
                Ok(o) if o.status.success() => {
                    let dir = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
                    if complete(&dir) {
                        Ok((dir, None))
                    } else {
                        Err(GuestError(format!(
                            "{} --print-dir named {}, which holds no complete guest: run {}",
                            script.display(),
                            dir.display(),
                            script.display()
                        )))
                    }
                }
                _ => Err(GuestError(format!(
                    "the default guest is not built for the current inputs: run {} (about 5 minutes the first time), or pass --kernel/--initrd",
                    script.display()
                ))),
            };
        }
        let Some(cache) = &self.cache else {
            return Err(GuestError(format!(
                "no guest: neither HEAPSOC_GUEST, HEAPSOC_CACHE, XDG_CACHE_HOME nor HOME is set; {}",
                how_to_build()
            )));
        };
        match newest_guest(&cache.join("guest")) {
            Some(dir) => {
                let note = format!(
                    "this binary runs outside its source tree: booting the newest guest in the cache, {} (HEAPSOC_GUEST=DIR picks another)",
                    dir.display()
                );
                Ok((dir, Some(note)))
            }
            None => Err(GuestError(format!(
                "no built guest in {}; {}",
                cache.join("guest").display(),
                how_to_build()
            ))),
        }
    }
}

fn how_to_build() -> String {
    "build one from a heapsoc checkout with `tests/host-deps.sh && guest-images/build.sh` (it prints the guest's directory), then set HEAPSOC_GUEST to that directory; or pass --kernel and --initrd".to_string()
}

/// Whether `dir` holds a guest build.sh finished.
/// The directory a lookup record names, if everything it lists is unchanged.
fn recorded_dir_of(record: &str) -> Option<PathBuf> {
    let mut lines = record.lines();
    if lines.next()? != "heapsoc-guest-lookup 1" {
        return None;
    }
    let dir = PathBuf::from(lines.next()?.strip_prefix("dir ")?);
    let mut checked = 0;
    for line in lines {
        // stat SIZE SECONDS.NANOSECONDS PATH
        let mut f = line.strip_prefix("stat ")?.splitn(3, ' ');
        let size: u64 = f.next()?.parse().ok()?;
        let (secs, nanos) = f.next()?.split_once('.')?;
        let (secs, nanos): (u64, u32) = (secs.parse().ok()?, nanos.parse().ok()?);
        let meta = std::fs::metadata(f.next()?).ok()?;
        let mtime = meta
            .modified()
            .ok()?
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        if meta.len() != size || mtime.as_secs() != secs || mtime.subsec_nanos() != nanos {
            return None;
        }
        checked += 1;
    }
    (checked > 0 && complete(&dir)).then_some(dir)
}

fn complete(dir: &Path) -> bool {
    [KERNEL, INITRD, MANIFEST].iter().all(|f| {
        std::fs::metadata(dir.join(f))
            .map(|m| m.is_file() && m.len() > 0)
            .unwrap_or(false)
    })
}

/// The complete guest under `root` whose manifest was written last.
fn newest_guest(root: &Path) -> Option<PathBuf> {
    let entries = std::fs::read_dir(root).ok()?;
    entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|d| complete(d))
        .filter_map(|d| {
            let t = std::fs::metadata(d.join(MANIFEST)).ok()?.modified().ok()?;
            Some((t, d))
        })
        .max()
        .map(|(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn make_guest(root: &Path, name: &str) -> PathBuf {
        let dir = root.join("guest").join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        for f in [KERNEL, INITRD, MANIFEST] {
            std::fs::write(dir.join(f), name).expect("write");
        }
        dir
    }

    fn installed(cache: &Path) -> Lookup {
        Lookup {
            build_script: None,
            guest_dir: None,
            cache: Some(cache.to_path_buf()),
        }
    }

    fn stat_line(path: &Path) -> String {
        let m = std::fs::metadata(path).unwrap();
        let t = m
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        format!(
            "stat {} {}.{:09} {}",
            m.len(),
            t.as_secs(),
            t.subsec_nanos(),
            path.display()
        )
    }

    #[test]
    fn a_lookup_record_holds_while_its_files_are_unchanged() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let guest = make_guest(tmp.path(), "abc");
        let input = tmp.path().join("kernel.fragment");
        std::fs::write(&input, "CONFIG_X=y\n").unwrap();
        let record = format!(
            "heapsoc-guest-lookup 1\ndir {}\n{}\n",
            guest.display(),
            stat_line(&input)
        );
        assert_eq!(recorded_dir_of(&record), Some(guest.clone()));
        // an edit (other size, or other time) voids it
        std::fs::write(&input, "CONFIG_X=n\n# more\n").unwrap();
        assert_eq!(recorded_dir_of(&record), None);
        // so do a missing file, a listing of nothing, another format and an incomplete guest
        let gone = record.replace(&input.display().to_string(), "/nonexistent/file");
        assert_eq!(recorded_dir_of(&gone), None);
        let fresh = format!(
            "heapsoc-guest-lookup 1\ndir {}\n{}\n",
            guest.display(),
            stat_line(&input)
        );
        assert_eq!(recorded_dir_of(&fresh), Some(guest.clone()));
        assert_eq!(
            recorded_dir_of(&format!(
                "heapsoc-guest-lookup 1\ndir {}\n",
                guest.display()
            )),
            None
        );
        assert_eq!(
            recorded_dir_of(&fresh.replace("lookup 1", "lookup 2")),
            None
        );
        std::fs::remove_file(guest.join(INITRD)).unwrap();
        assert_eq!(recorded_dir_of(&fresh), None);
    }

    #[test]
    fn an_installed_binary_boots_the_newest_complete_guest_in_the_cache() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let old = make_guest(tmp.path(), "old");
        let new = make_guest(tmp.path(), "new");
        let incomplete = tmp.path().join("guest/incomplete");
        std::fs::create_dir_all(&incomplete).expect("mkdir");
        std::fs::write(incomplete.join(KERNEL), "x").expect("write");
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options()
            .write(true)
            .open(old.join(MANIFEST))
            .and_then(|f| f.set_modified(past))
            .expect("age the old manifest");
        let g = installed(tmp.path()).locate(None, None).expect("a guest");
        assert_eq!(g.kernel, new.join(KERNEL));
        assert_eq!(g.initrd, Some(new.join(INITRD)));
        assert!(g
            .note
            .expect("a note")
            .contains("newest guest in the cache"));
    }

    #[test]
    fn an_installed_binary_without_a_guest_says_how_to_build_one() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let e = installed(tmp.path()).locate(None, None).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("no built guest in"), "{msg}");
        assert!(msg.contains("guest-images/build.sh"), "{msg}");
        assert!(msg.contains("HEAPSOC_GUEST"), "{msg}");
    }

    #[test]
    fn heapsoc_guest_names_the_directory_and_is_checked() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = make_guest(tmp.path(), "mine");
        let mut l = installed(&tmp.path().join("elsewhere"));
        l.guest_dir = Some(dir.clone());
        let g = l.locate(None, None).expect("a guest");
        assert_eq!((g.kernel, g.note), (dir.join(KERNEL), None));
        l.guest_dir = Some(tmp.path().join("missing"));
        let msg = l.locate(None, None).unwrap_err().to_string();
        assert!(msg.starts_with("--guest/HEAPSOC_GUEST "), "{msg}");
    }

    #[test]
    fn a_kernel_alone_gets_the_default_guests_initramfs_with_a_note() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = make_guest(tmp.path(), "g");
        let g = installed(tmp.path())
            .locate(Some(Path::new("my/Image")), None)
            .expect("a guest");
        assert_eq!(g.kernel, PathBuf::from("my/Image"));
        assert_eq!(g.initrd, Some(dir.join(INITRD)));
        assert!(g
            .note
            .expect("a note")
            .contains("default guest's initramfs"));
        let both = installed(tmp.path())
            .locate(Some(Path::new("k")), Some(Path::new("i")))
            .expect("a guest");
        assert_eq!((both.initrd, both.note), (Some(PathBuf::from("i")), None));
    }
}
