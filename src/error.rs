//! Errors that stop a run, by the area that failed, and the documented exit codes.
//!
//! Problems with single pages or images are not errors here: they are recorded in the report
//! (see `report.rs`) and only decide the exit code, so one bad item never stops the others.

use std::path::PathBuf;

/// The process exit codes, as the README documents them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Everything done, nothing broken.
    Success = 0,
    /// `check` found work, or some references are broken or refused.
    Findings = 1,
    /// Usage or configuration error: nothing was done.
    Usage = 2,
    /// Some uploads failed; everything else was done.
    UploadFailed = 3,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// A configuration or usage error: reported once, exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("no imglift.yaml in {} or any parent folder; run `imglift init` or pass --config", dir.display())]
    NoConfig { dir: PathBuf },
    #[error("config file {} does not exist", path.display())]
    NotFound { path: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    /// A value or key of the file that is wrong, at its line and column.
    #[error("{}:{line}:{col}: {message}", path.display())]
    ParseAt {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    #[error(
        "{}: `{key}` looks like a secret; secrets are never read from the config file. \
         Export IMGLIFT_ACCESS_KEY_ID and IMGLIFT_SECRET_ACCESS_KEY in the environment \
         (or a CI secret) and remove `{key}` from the file",
        path.display()
    )]
    Secret { path: PathBuf, key: String },
    #[error("site root {}: {source}", path.display())]
    Root {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{key}` is required: {hint}")]
    Missing {
        key: &'static str,
        hint: &'static str,
    },
    #[error("`{key}`: {message}")]
    Invalid { key: &'static str, message: String },
    #[error("{}: {message}", path.display())]
    Path { path: PathBuf, message: String },
}

/// What stops a command before it finishes its work: a configuration or usage error, a damaged
/// or unwritable manifest, a store or network client that cannot be opened. Each is reported
/// once, and the exit code is 2 ([`Exit::Usage`]). Problems with single pages or images are
/// not errors: they are diagnostics in the report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Manifest(#[from] crate::manifest::ManifestError),
    #[error(transparent)]
    Store(#[from] crate::store::OpenError),
    #[error(transparent)]
    Net(#[from] crate::net::NetError),
    #[error(transparent)]
    Lock(#[from] crate::lock::LockError),
}

impl Error {
    pub fn exit(&self) -> Exit {
        Exit::Usage
    }
}

/// serde_yaml's words for a syntax error without libyaml's " at line N column M" marks: the
/// caller shows the place as `file:line:col` (counted from where the YAML starts in the file).
pub fn yaml_words(e: &serde_yaml::Error) -> String {
    let message = e.to_string();
    let mut out = String::new();
    let mut rest = message.as_str();
    while let Some(i) = rest.find(" at line ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + " at line ".len()..];
        let digits = |s: &str| s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let n = digits(after);
        match after[n..].strip_prefix(" column ") {
            Some(col) if n > 0 && digits(col) > 0 => rest = &col[digits(col)..],
            _ => {
                out.push_str(" at line ");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn yaml_words_drop_every_mark_and_keep_the_rest() {
        let e = serde_yaml::from_str::<serde_yaml::Value>("a: [b\n").unwrap_err();
        assert!(e.to_string().contains(" at line "), "{e}");
        assert_eq!(
            super::yaml_words(&e),
            "did not find expected ',' or ']', while parsing a flow sequence"
        );
        let e = serde_yaml::from_str::<serde_yaml::Value>("a: b\n  c: d\n").unwrap_err();
        assert_eq!(
            super::yaml_words(&e),
            "mapping values are not allowed in this context"
        );
    }
}
