//! How Hugo serves a site, where it differs from the plain folder layout: page URLs are
//! lowercased (unless `disablePathToLower`), and the `figure` shortcode and the embedded image
//! render hook look an image up among the page's resources, then the global resources under
//! `assets/`, then the path as it is. The resolver uses both; nothing here writes.

use std::path::{Path, PathBuf};

use crate::cli::Generator;

/// A Hugo site, recognised from its config file in the site root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hugo {
    /// `assets/` under the root (it may not exist).
    pub assets: PathBuf,
    /// Whether Hugo lowercases page URLs (its default).
    pub path_to_lower: bool,
}

/// The Hugo site at `root`, if `root` holds a Hugo config file.
pub fn detect(root: &Path) -> Option<Hugo> {
    let (generator, file) = crate::commands::init::detect(root)?;
    if generator != Generator::Hugo {
        return None;
    }
    let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
    Some(Hugo {
        assets: root.join("assets"),
        path_to_lower: !disables_path_to_lower(&text),
    })
}

/// `disablePathToLower = true` (TOML), `: true` (YAML) or `": true` (JSON); Hugo's keys are
/// case-insensitive.
fn disables_path_to_lower(config: &str) -> bool {
    config.lines().any(|l| {
        let l = l.trim().trim_start_matches('"').to_ascii_lowercase();
        l.strip_prefix("disablepathtolower").is_some_and(|rest| {
            let rest = rest.trim_start_matches('"').trim_start();
            let value = rest
                .strip_prefix('=')
                .or_else(|| rest.strip_prefix(':'))
                .unwrap_or("");
            value.trim().trim_end_matches(',').trim() == "true"
        })
    })
}

/// The file under `base` that Hugo serves at the lowercased URL path `inner`: each folder or
/// file name that does not exist as written is matched by its lowercase form. `inner` must be
/// lowercase already (that is what Hugo's URLs are).
pub fn lowercased_match(base: &Path, inner: &str) -> Option<PathBuf> {
    if inner != inner.to_lowercase() {
        return None;
    }
    let mut path = base.to_path_buf();
    for part in inner.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." {
            return None;
        }
        let exact = path.join(part);
        if exact.exists() {
            path = exact;
            continue;
        }
        let found = std::fs::read_dir(&path)
            .ok()?
            .filter_map(Result::ok)
            .find(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| n.to_lowercase() == part)
            })?;
        path = found.path();
    }
    path.is_file().then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disable_path_to_lower_in_toml_yaml_and_json() {
        assert!(disables_path_to_lower("disablePathToLower = true\n"));
        assert!(disables_path_to_lower("disablepathtolower: true\n"));
        assert!(disables_path_to_lower("  \"disablePathToLower\": true,\n"));
        assert!(!disables_path_to_lower("disablePathToLower = false\n"));
        assert!(!disables_path_to_lower("baseURL = 'x'\n"));
    }

    #[test]
    fn a_lowercased_url_finds_the_mixed_case_bundle() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("blog/2019-Year-in-Review/images");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("github2019.png"), b"x").unwrap();
        assert_eq!(
            lowercased_match(tmp.path(), "blog/2019-year-in-review/images/github2019.png"),
            Some(dir.join("github2019.png"))
        );
        // Hugo's URLs are lowercase: a mixed-case URL is not one of them.
        assert_eq!(
            lowercased_match(tmp.path(), "blog/2019-Year-in-review/images/github2019.png"),
            None
        );
        assert_eq!(lowercased_match(tmp.path(), "blog/../blog/x.png"), None);
        assert_eq!(lowercased_match(tmp.path(), "blog/nothing.png"), None);
    }
}
