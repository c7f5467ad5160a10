//! Pruning the `--out` tree: a file that imglift itself put there in an earlier run, and that
//! no longer comes from the sources (a renamed image, a deleted page), is removed, so the built
//! site does not keep showing what the sources lost. What imglift wrote is recorded in
//! `.imglift-out` inside the out folder; nothing that is not listed there is ever removed.

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};

use rustc_hash::FxHashSet as HashSet;

use crate::config::Config;
use crate::pages::Loaded;
use crate::report::{file_warning, Diagnostic};

/// The record of what imglift wrote, inside the out folder.
pub const LIST: &str = ".imglift-out";

/// Every file this run puts into the out tree, relative to it: each page, and each other file
/// of the content roots except imglift's own and the lifted images `left_out` (as
/// `output::mirror_others` mirrors them). An earlier run's copy of an image lifted since is
/// then pruned like any file the sources lost.
pub fn files_of_run(
    config: &Config,
    loaded: &Loaded,
    left_out: &HashSet<PathBuf>,
) -> BTreeSet<String> {
    let own = [
        Some(&config.manifest),
        Some(&config.cache_file),
        config.config_file.as_ref(),
    ];
    let others = loaded
        .others
        .iter()
        .filter(|p| !own.contains(&Some(*p)) && !left_out.contains(*p))
        .chain(&loaded.unreadable)
        .map(|p| crate::fs::rel(&config.root, p));
    loaded
        .pages
        .iter()
        .map(|p| p.rel.clone())
        .chain(others)
        .collect()
}

/// Remove what the last run's list has and this run's files do not (unless the run was
/// narrowed by PATH arguments: then nothing is removed and the lists are merged), and write the
/// new list. Returns the removed files (relative to `out`) and any problems.
pub fn prune(out: &Path, now: &BTreeSet<String>, narrowed: bool) -> (Vec<String>, Vec<Diagnostic>) {
    let list_path = out.join(LIST);
    let before: BTreeSet<String> = std::fs::read_to_string(&list_path)
        .map(|t| {
            t.lines()
                .filter(|l| !l.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let mut removed = Vec::new();
    let mut problems = Vec::new();
    let mut keep = now.clone();
    if narrowed {
        keep.extend(before.iter().cloned());
    } else {
        for gone in before.difference(now) {
            // Only plain relative paths inside the out folder: a hand-edited list cannot reach out.
            let rel = Path::new(gone);
            if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
                continue;
            }
            let path = out.join(rel);
            match std::fs::symlink_metadata(&path) {
                Ok(m) if !m.is_dir() => match std::fs::remove_file(&path) {
                    Ok(()) => {
                        removed.push(gone.clone());
                        remove_empty_parents(out, &path);
                    }
                    Err(e) => problems.push(file_warning(
                        gone,
                        "unreadable",
                        format!("cannot remove it from {}: {e}", out.display()),
                    )),
                },
                _ => {}
            }
        }
    }
    let mut text: String = keep.iter().map(|f| format!("{f}\n")).collect();
    if text.is_empty() {
        text.push('\n');
    }
    let unchanged = std::fs::read(&list_path).is_ok_and(|old| old == text.as_bytes());
    if unchanged {
        return (removed, problems);
    }
    if let Err(e) = crate::fs::write_replace(&list_path, text.as_bytes()) {
        problems.push(file_warning(
            LIST,
            "unreadable",
            format!(
                "cannot write {}: {e}; the next run cannot prune",
                list_path.display()
            ),
        ));
    }
    (removed, problems)
}

/// Remove the folders of `file` that are now empty, up to (not including) `out`.
fn remove_empty_parents(out: &Path, file: &Path) {
    let mut dir = file.parent();
    while let Some(d) = dir {
        if d == out || !d.starts_with(out) || std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn only_listed_files_that_are_gone_are_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path();
        for f in ["a/x.png", "a/y.md", "mine.txt", "b/old.png"] {
            std::fs::create_dir_all(out.join(f).parent().unwrap()).unwrap();
            std::fs::write(out.join(f), b"x").unwrap();
        }
        // The first run lists what it wrote and removes nothing.
        let (removed, problems) = prune(out, &set(&["a/x.png", "a/y.md", "b/old.png"]), false);
        assert!(removed.is_empty() && problems.is_empty());
        // b/old.png is gone from the sources; mine.txt was never imglift's.
        let (removed, _) = prune(out, &set(&["a/x.png", "a/y.md"]), false);
        assert_eq!(removed, ["b/old.png"]);
        assert!(!out.join("b").exists(), "the empty folder goes too");
        assert!(out.join("mine.txt").is_file() && out.join("a/x.png").is_file());
        assert_eq!(
            std::fs::read_to_string(out.join(LIST)).unwrap(),
            "a/x.png\na/y.md\n"
        );
    }

    #[test]
    fn a_narrowed_run_removes_nothing_and_keeps_the_list() {
        let tmp = tempfile::tempdir().unwrap();
        let out = &tmp.path().join("out");
        std::fs::create_dir(out).unwrap();
        std::fs::write(out.join("x.png"), b"x").unwrap();
        std::fs::write(out.join(LIST), "x.png\n../outside.png\n").unwrap();
        let (removed, _) = prune(out, &set(&["y.md"]), true);
        assert!(removed.is_empty() && out.join("x.png").is_file());
        let list = std::fs::read_to_string(out.join(LIST)).unwrap();
        assert!(
            list.contains("x.png\n") && list.contains("y.md\n"),
            "{list}"
        );
        // A listed path that leaves the out folder is never followed.
        std::fs::write(tmp.path().join("keep.png"), b"k").unwrap();
        std::fs::write(out.join(LIST), "../keep.png\n").unwrap();
        let (removed, _) = prune(out, &set(&[]), false);
        assert!(removed.is_empty() && tmp.path().join("keep.png").is_file());
    }
}
