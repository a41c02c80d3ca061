//! Atomic output folders: written beside their final place, then renamed into it.
//!
//! A run (or a `fetch`) stages every file in a hidden sibling folder
//! `.<name>.didbill-tmp-<pid>`; only when all files are written and synced does
//! [`StagedDir::commit`] swap it into place. A failed or killed run leaves at most a
//! staging folder, which is removed on drop or by the next run's [`StagedDir::create`].
//!
//! Linux cannot rename a folder over a non-empty one, so the swap is two renames
//! (old target aside, staging into place) followed by removing the old one; a crash
//! between them leaves the previous outputs in `.<name>.didbill-old-<pid>`, which the
//! next run removes after committing its own.
//!
//! Each staging holds an exclusive advisory lock (`flock`) on the target's parent
//! folder from [`StagedDir::create`] until it is committed or dropped, so two
//! processes writing the same folder (a run and a `didbill note` of the same
//! period) take turns: the one that renders second sees the first one's ledger
//! records, and its folder is the one left in place. Callers take it before the
//! ledger's lock, so the two locks are always taken in the same order.

use std::fs;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};

/// A folder under construction that becomes `target` on [`StagedDir::commit`].
#[derive(Debug)]
pub struct StagedDir {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
    /// Holds the folder's lock while open.
    _lock: fs::File,
}

impl StagedDir {
    /// Starts staging `target`. `marker` is a file every didbill-written folder of this
    /// kind holds: an existing non-empty `target` without it is refused, so didbill
    /// never replaces a folder it did not write.
    pub fn create(target: &Path, marker: &str) -> Result<StagedDir> {
        let name = target
            .file_name()
            .and_then(|n| n.to_str())
            .filter(|n| !n.is_empty() && *n != "." && *n != "..")
            .ok_or_else(|| {
                Error::Usage(format!(
                    "output folder {} must end in a folder name",
                    target.display()
                ))
            })?
            .to_owned();
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // Missing parents are created (like `mkdir -p`), so the default
        // `out/YYYY-MM` works in a fresh folder; one that cannot be is named as the
        // parent of the output folder, not as the hidden staging folder inside it.
        fs::create_dir_all(&parent).map_err(|e| {
            Error::io(
                format!(
                    "creating {}, the folder that is to hold {}",
                    parent.display(),
                    target.display()
                ),
                e,
            )
        })?;
        if target.exists() {
            if !target.is_dir() {
                return Err(Error::Usage(format!(
                    "{} exists and is not a folder; choose another --out",
                    target.display()
                )));
            }
            let non_empty = fs::read_dir(target)
                .map_err(|e| Error::io(format!("reading {}", target.display()), e))?
                .next()
                .is_some();
            if non_empty && !target.join(marker).exists() {
                return Err(Error::Usage(format!(
                    "{} is not empty and was not written by didbill (no {marker}); \
                     choose another --out or empty it",
                    target.display()
                )));
            }
        }
        let lock = fs::File::open(&parent)
            .and_then(|f| f.lock().map(|_| f))
            .map_err(|e| Error::io(format!("locking {}", parent.display()), e))?;
        remove_stale(&parent, &name);
        let staging = parent.join(format!(".{name}.didbill-tmp-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging)
                .map_err(|e| Error::io(format!("removing {}", staging.display()), e))?;
        }
        fs::create_dir(&staging)
            .map_err(|e| Error::io(format!("creating {}", staging.display()), e))?;
        Ok(StagedDir {
            target: target.to_path_buf(),
            staging,
            committed: false,
            _lock: lock,
        })
    }

    /// The folder the outputs will finally be in.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Copies every file the target holds now into the staging folder, for a
    /// writer that adds or replaces some files of a folder and keeps the rest.
    pub fn carry_over(&self) -> Result<()> {
        if !self.target.is_dir() {
            return Ok(());
        }
        copy_tree(&self.target, &self.staging)
    }

    /// Removes a carried-over file (a name in the folder's top level) from the
    /// staging folder, for a writer that replaces a set of files whose count may
    /// shrink or grow; nothing when it is not there.
    pub fn remove_file(&self, name: &str) -> Result<()> {
        match fs::remove_file(self.staging.join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(
                format!("removing {name} from the staging folder"),
                e,
            )),
            _ => Ok(()),
        }
    }

    /// Writes one file (a relative path, sub-folders created) into the staging folder.
    pub fn write_file(&self, relative: &str, bytes: &[u8]) -> Result<()> {
        let rel = Path::new(relative);
        if rel.as_os_str().is_empty()
            || !rel.components().all(|c| matches!(c, Component::Normal(_)))
        {
            return Err(Error::Data(format!(
                "refusing to write {relative:?}: output file names must stay inside the output folder"
            )));
        }
        let path = self.staging.join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("creating {}", dir.display()), e))?;
        }
        let mut file = fs::File::create(&path)
            .map_err(|e| Error::io(format!("writing {}", self.shown(rel)), e))?;
        file.write_all(bytes)
            .and_then(|_| file.sync_all())
            .map_err(|e| Error::io(format!("writing {}", self.shown(rel)), e))
    }

    fn shown(&self, rel: &Path) -> String {
        self.target.join(rel).display().to_string()
    }

    /// Moves the staged folder into place, replacing what was there.
    pub fn commit(mut self) -> Result<()> {
        let parent = self
            .staging
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let old = parent.join(format!(
            ".{}.didbill-old-{}",
            self.target
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("out"),
            std::process::id()
        ));
        let had_target = self.target.exists();
        if had_target {
            fs::rename(&self.target, &old).map_err(|e| {
                Error::io(
                    format!("moving the previous {} aside", self.target.display()),
                    e,
                )
            })?;
        }
        if let Err(e) = fs::rename(&self.staging, &self.target) {
            if had_target {
                let _ = fs::rename(&old, &self.target);
            }
            return Err(Error::io(
                format!("moving outputs into {}", self.target.display()),
                e,
            ));
        }
        self.committed = true;
        if had_target {
            let _ = fs::remove_dir_all(&old);
        }
        if let Ok(dir) = fs::File::open(&parent) {
            let _ = dir.sync_all();
        }
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let entries =
        fs::read_dir(from).map_err(|e| Error::io(format!("reading {}", from.display()), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("reading {}", from.display()), e))?;
        let (source, dest) = (entry.path(), to.join(entry.file_name()));
        let kind = entry
            .file_type()
            .map_err(|e| Error::io(format!("reading {}", source.display()), e))?;
        if kind.is_dir() {
            fs::create_dir_all(&dest)
                .map_err(|e| Error::io(format!("creating {}", dest.display()), e))?;
            copy_tree(&source, &dest)?;
        } else if kind.is_file() {
            fs::copy(&source, &dest)
                .map_err(|e| Error::io(format!("copying {}", source.display()), e))?;
        }
    }
    Ok(())
}

/// Removes staging and set-aside folders for `name` left by killed runs whose
/// process no longer exists.
fn remove_stale(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let tmp = format!(".{name}.didbill-tmp-");
    let old = format!(".{name}.didbill-old-");
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(f) = file_name.to_str() else {
            continue;
        };
        let pid = f.strip_prefix(&tmp).or_else(|| f.strip_prefix(&old));
        if let Some(pid) = pid.and_then(|p| p.parse::<u32>().ok()) {
            if pid == std::process::id() || !Path::new(&format!("/proc/{pid}")).exists() {
                let _ = fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// Lists leftovers of interrupted runs beside `target` (for tests and diagnostics).
pub fn leftovers(target: &Path) -> Vec<PathBuf> {
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = format!(".{name}.didbill-");
    fs::read_dir(parent)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_previous_outputs_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out").join("2026-11");
        let staged = StagedDir::create(&target, "summary.json").unwrap();
        staged.write_file("summary.json", b"1").unwrap();
        staged.write_file("pdf/a.pdf", b"pdf").unwrap();
        assert!(!target.exists(), "nothing is visible before commit");
        staged.commit().unwrap();
        assert_eq!(fs::read(target.join("pdf/a.pdf")).unwrap(), b"pdf");

        let staged = StagedDir::create(&target, "summary.json").unwrap();
        staged.write_file("summary.json", b"2").unwrap();
        staged.commit().unwrap();
        assert_eq!(fs::read(target.join("summary.json")).unwrap(), b"2");
        assert!(!target.join("pdf").exists(), "old files do not linger");
        assert!(leftovers(&target).is_empty());
    }

    #[test]
    fn dropping_without_commit_removes_the_staging_folder() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("x");
        {
            let staged = StagedDir::create(&target, "summary.json").unwrap();
            staged.write_file("a.csv", b"a").unwrap();
        }
        assert!(!target.exists());
        assert!(leftovers(&target).is_empty());
    }

    #[test]
    fn refuses_foreign_folders_and_escaping_names() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("mine");
        fs::create_dir(&target).unwrap();
        fs::write(target.join("thesis.docx"), b"precious").unwrap();
        let err = StagedDir::create(&target, "summary.json").unwrap_err();
        assert!(err.to_string().contains("not written by didbill"), "{err}");

        let staged = StagedDir::create(&dir.path().join("ok"), "summary.json").unwrap();
        for bad in ["../escape.csv", "/etc/passwd", "a/../../b", ""] {
            assert!(staged.write_file(bad, b"x").is_err(), "{bad}");
        }
        assert!(!dir.path().join("escape.csv").exists());
    }

    #[test]
    fn stale_staging_of_a_dead_process_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("2026-11");
        // pid 4194304 is above Linux's pid_max limit, so it cannot be alive.
        let stale = dir.path().join(".2026-11.didbill-tmp-4194304");
        fs::create_dir(&stale).unwrap();
        let staged = StagedDir::create(&target, "summary.json").unwrap();
        assert!(!stale.exists());
        staged.commit().unwrap();
    }
}
