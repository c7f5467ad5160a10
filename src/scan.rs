//! Scan: walk the content roots and list the Markdown pages (and, for `--out`, every other file).
//!
//! Hidden and VCS folders are skipped, as are the output tree and the local store when they lie
//! inside a content root. Symbolic links are not followed: a linked page could point anywhere,
//! and rewriting it in place would replace the link. Order is sorted, so runs are deterministic.

use std::path::PathBuf;

use walkdir::WalkDir;

use crate::config::Config;
use crate::error::ConfigError;
use crate::fs::{is_own_temp, rel};

#[derive(Debug, Default)]
pub struct Scanned {
    /// Markdown pages matching include and not exclude.
    pub pages: Vec<PathBuf>,
    /// Every other regular file of the content roots (for mirroring into `--out`).
    pub others: Vec<PathBuf>,
    /// imglift's own temporary files (`.imglift-*.tmp`) met on the way: what a killed run
    /// left, for `sync` to remove (one walk of the content roots serves both).
    pub temps: Vec<PathBuf>,
}

/// Walk the content roots. `only` (absolute paths) narrows the run to those files or folders;
/// `skip` lists folders never to enter.
pub fn scan(config: &Config, only: &[PathBuf], skip: &[PathBuf]) -> Result<Scanned, ConfigError> {
    // A walk sorted by file name yields each root's files in path order already.
    let mut pages = Vec::new();
    let mut others = Vec::new();
    let mut temps = Vec::new();
    for content in &config.content {
        if !content.is_dir() {
            return Err(ConfigError::Path {
                path: content.clone(),
                message: "content folder does not exist (check `content` in imglift.yaml)".into(),
            });
        }
        let walker = WalkDir::new(content)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter()
            .filter_entry(|e| {
                let hidden = e.depth() > 0 && e.file_name().as_encoded_bytes().starts_with(b".");
                let skipped = e.file_type().is_dir() && skip.iter().any(|s| e.path() == s);
                let temp = e.file_type().is_file() && is_own_temp(e.file_name());
                (!hidden || temp) && !skipped
            });
        for entry in walker.filter_map(Result::ok) {
            if !entry.file_type().is_file() {
                continue;
            }
            if entry.depth() > 0 && is_own_temp(entry.file_name()) {
                temps.push(entry.into_path());
                continue;
            }
            let path = entry.into_path();
            if !only.is_empty() && !only.iter().any(|o| path.starts_with(o)) {
                continue;
            }
            // Globs may be written relative to the root or to the content folder.
            let rel_root = rel(&config.root, &path);
            let rel_content = rel(content, &path);
            let matches =
                |set: &globset::GlobSet| set.is_match(&rel_root) || set.is_match(&rel_content);
            if matches(&config.include) && !matches(&config.exclude) {
                pages.push(path);
            } else {
                others.push(path);
            }
        }
    }
    // Content roots may overlap (one inside another): each file once, in path order.
    if config.content.len() > 1 {
        for files in [&mut pages, &mut others] {
            files.sort_unstable();
            files.dedup();
        }
        others.retain(|p| pages.binary_search(p).is_err());
    }
    Ok(Scanned {
        pages,
        others,
        temps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    use crate::config::{Overrides, RawConfig};

    /// Create `files` under a fresh root and resolve a config over it.
    fn site(files: &[&str], raw: RawConfig) -> (tempfile::TempDir, Config) {
        let tmp = tempfile::tempdir().unwrap();
        for rel in files {
            let path = tmp.path().join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, "x").unwrap();
        }
        let raw = RawConfig {
            public_url: Some("https://img.example.com".into()),
            ..raw
        };
        let file = tmp.path().join("imglift.yaml");
        let config = Config::resolve(raw, Some(&file), &Overrides::default(), &|_| None).unwrap();
        (tmp, config)
    }

    fn rels(config: &Config, paths: &[PathBuf]) -> Vec<String> {
        paths.iter().map(|p| rel(&config.root, p)).collect()
    }

    const FILES: &[&str] = &[
        "content/a.md",
        "content/b.markdown",
        "content/c.txt",
        "content/pic.png",
        "content/sub/d.md",
        "content/drafts/e.md",
        "content/.hidden/h.md",
        "content/.draft.md",
        "content/.git/HEAD.md",
        "content/sub/.svn/s.md",
        "content/.hg/g.md",
        "content/out/o.md",
        "static/img/a.png",
        "README.md",
    ];

    #[test]
    fn default_globs_list_markdown_pages_and_everything_else_apart() {
        let (_tmp, config) = site(FILES, RawConfig::default());
        let s = scan(&config, &[], &[]).unwrap();
        assert_eq!(
            rels(&config, &s.pages),
            [
                "content/a.md",
                "content/b.markdown",
                "content/drafts/e.md",
                "content/out/o.md",
                "content/sub/d.md",
            ]
        );
        assert_eq!(
            rels(&config, &s.others),
            ["content/c.txt", "content/pic.png"]
        );
    }

    #[test]
    fn hidden_and_vcs_folders_and_files_are_skipped() {
        let (_tmp, config) = site(FILES, RawConfig::default());
        let s = scan(&config, &[], &[]).unwrap();
        let all: Vec<String> = rels(&config, &s.pages)
            .into_iter()
            .chain(rels(&config, &s.others))
            .collect();
        for hidden in [".hidden", ".draft.md", ".git", ".svn", ".hg"] {
            assert!(
                all.iter().all(|p| !p.contains(hidden)),
                "{hidden} listed in {all:?}"
            );
        }
    }

    #[test]
    fn exclude_globs_relative_to_content_or_root() {
        for pattern in ["drafts/**", "content/drafts/**"] {
            let raw = RawConfig {
                exclude: Some(vec![pattern.into()]),
                ..RawConfig::default()
            };
            let (_tmp, config) = site(FILES, raw);
            let s = scan(&config, &[], &[]).unwrap();
            let pages = rels(&config, &s.pages);
            assert!(!pages.contains(&"content/drafts/e.md".into()), "{pattern}");
            assert!(pages.contains(&"content/sub/d.md".into()), "{pattern}");
            // Excluded pages are still files of the content root (mirrored by `--out`).
            assert!(
                rels(&config, &s.others).contains(&"content/drafts/e.md".into()),
                "{pattern}"
            );
        }
    }

    #[test]
    fn include_globs_choose_the_pages() {
        let raw = RawConfig {
            include: Some(vec!["**/*.txt".into(), "sub/*.md".into()]),
            ..RawConfig::default()
        };
        let (_tmp, config) = site(FILES, raw);
        let s = scan(&config, &[], &[]).unwrap();
        assert_eq!(
            rels(&config, &s.pages),
            ["content/c.txt", "content/sub/d.md"]
        );
        assert!(rels(&config, &s.others).contains(&"content/a.md".into()));
    }

    #[test]
    fn only_narrows_to_files_and_folders() {
        let (_tmp, config) = site(FILES, RawConfig::default());
        let sub = config.root.join("content/sub");
        let a = config.root.join("content/a.md");
        let s = scan(&config, &[sub, a], &[]).unwrap();
        assert_eq!(
            rels(&config, &s.pages),
            ["content/a.md", "content/sub/d.md"]
        );
        assert!(s.others.is_empty(), "{:?}", s.others);
        // A file name is not a prefix of its neighbours: `content/a` is not `content/a.md`.
        let s = scan(&config, &[config.root.join("content/a")], &[]).unwrap();
        assert!(s.pages.is_empty(), "{:?}", s.pages);
    }

    #[test]
    fn skipped_folders_are_never_entered() {
        let (_tmp, config) = site(FILES, RawConfig::default());
        let s = scan(&config, &[], &[config.root.join("content/out")]).unwrap();
        let all: Vec<String> = rels(&config, &s.pages)
            .into_iter()
            .chain(rels(&config, &s.others))
            .collect();
        assert!(
            !all.iter().any(|p| p.starts_with("content/out/")),
            "{all:?}"
        );
        assert!(all.contains(&"content/sub/d.md".into()));
    }

    #[test]
    fn root_as_content_with_exclusions_like_jekyll() {
        let raw = RawConfig {
            content: Some(vec![".".into()]),
            exclude: Some(vec!["_site/**".into()]),
            ..RawConfig::default()
        };
        let files = [
            "index.md",
            "_posts/p.md",
            "_site/p.md",
            ".git/x.md",
            "a.png",
            "_build/index.md",
        ];
        let (_tmp, config) = site(&files, raw);
        // `--out _build` inside the root: skipped though the walk starts at `root/.`.
        let s = scan(&config, &[], &[config.root.join("_build")]).unwrap();
        assert_eq!(rels(&config, &s.pages), ["_posts/p.md", "index.md"]);
        let others = rels(&config, &s.others);
        assert!(others.contains(&"_site/p.md".into()), "{others:?}");
        assert!(!others.iter().any(|p| p.contains(".git")), "{others:?}");
    }

    #[test]
    fn several_content_roots_are_all_walked() {
        let raw = RawConfig {
            content: Some(vec!["content".into(), "docs".into()]),
            ..RawConfig::default()
        };
        let (_tmp, config) = site(&["content/a.md", "docs/b.md", "other/c.md"], raw);
        let s = scan(&config, &[], &[]).unwrap();
        assert_eq!(rels(&config, &s.pages), ["content/a.md", "docs/b.md"]);
    }

    #[test]
    fn a_missing_content_folder_is_a_config_error() {
        let (_tmp, config) = site(&["static/a.png"], RawConfig::default());
        match scan(&config, &[], &[]) {
            Err(ConfigError::Path { path, .. }) => assert_eq!(path, config.root.join("content")),
            other => panic!("{other:?}"),
        }
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_pages_and_folders_are_not_followed() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::create_dir(outside.path().join("dir")).unwrap();
        std::fs::write(outside.path().join("dir/x.md"), "x").unwrap();
        std::fs::write(outside.path().join("y.md"), "y").unwrap();
        let (_tmp, config) = site(&["content/a.md"], RawConfig::default());
        let content = config.root.join("content");
        std::os::unix::fs::symlink(outside.path().join("dir"), content.join("linked")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("y.md"), content.join("y.md")).unwrap();
        let s = scan(&config, &[], &[]).unwrap();
        assert_eq!(rels(&config, &s.pages), ["content/a.md"]);
        assert!(s.others.is_empty(), "{:?}", s.others);
    }

    #[test]
    fn rel_uses_forward_slashes_relative_to_the_root() {
        let root = Path::new("/site");
        assert_eq!(
            rel(root, &root.join("content").join("a b.md")),
            "content/a b.md"
        );
        assert_eq!(rel(root, Path::new("/elsewhere/x.md")), "/elsewhere/x.md");
    }
}
