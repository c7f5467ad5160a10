//! Configuration: `imglift.yaml` as written, and the resolved [`Config`] the pipeline sees.
//!
//! The raw file is read with `deny_unknown_fields`, so a typo is an error naming the key and the
//! file. Resolution applies the precedence flags > environment > file > defaults in one place
//! ([`Config::resolve`]), makes every path absolute, compiles the globs and the key template, and
//! refuses a secret written into the file. Credentials themselves are looked up by the target.

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;

use crate::error::ConfigError;
use crate::plan::KeyTemplate;

pub const FILE_NAMES: [&str; 2] = ["imglift.yaml", "imglift.yml"];
pub const DEFAULT_KEY: &str = "{hash:16}/{fileName}.{extName}";
pub const DEFAULT_CACHE_CONTROL: &str = "public, max-age=31536000, immutable";
pub const DEFAULT_CONCURRENCY: usize = 16;
pub const DEFAULT_MAX_SIZE: u64 = 20 * 1024 * 1024;
/// The local stat cache, beside the manifest; not committed.
pub const CACHE_FILE: &str = ".imglift-cache";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub root: Option<PathBuf>,
    pub content: Option<Vec<PathBuf>>,
    #[serde(rename = "static")]
    pub static_dirs: Option<Vec<PathBuf>>,
    pub include: Option<Vec<String>>,
    pub exclude: Option<Vec<String>>,
    pub public_url: Option<String>,
    pub key: Option<String>,
    pub target: Option<RawTarget>,
    pub cache_control: Option<String>,
    pub concurrency: Option<usize>,
    pub front_matter: Option<Vec<String>>,
    pub manifest: Option<PathBuf>,
    pub max_size: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub dir: Option<PathBuf>,
    pub s3: Option<RawS3>,
}

#[derive(Debug, Default, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub struct RawS3 {
    pub bucket: String,
    pub endpoint: Option<String>,
    pub account_id: Option<String>,
    pub region: Option<String>,
    pub acl: Option<String>,
    pub prefix: Option<String>,
}

/// Values given on the command line or in the environment, which win over the file.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub public_url: Option<String>,
    pub concurrency: Option<usize>,
}

#[derive(Debug, Clone)]
pub enum TargetConfig {
    Dir(PathBuf),
    S3(S3Config),
}

#[derive(Debug, Clone)]
pub struct S3Config {
    pub bucket: String,
    pub endpoint: String,
    pub region: String,
    pub acl: Option<String>,
    pub prefix: String,
}

/// Everything the pipeline needs, resolved and checked before any work starts.
#[derive(Debug, Clone)]
pub struct Config {
    /// Canonical site root: nothing outside it is ever uploaded.
    pub root: PathBuf,
    pub config_file: Option<PathBuf>,
    pub content: Vec<PathBuf>,
    pub static_dirs: Vec<PathBuf>,
    pub include: GlobSet,
    pub exclude: GlobSet,
    pub public_url: String,
    pub key: KeyTemplate,
    pub target: TargetConfig,
    pub cache_control: String,
    pub concurrency: usize,
    pub front_matter: Vec<String>,
    pub manifest: PathBuf,
    pub cache_file: PathBuf,
    pub max_size: u64,
}

impl Config {
    /// Find and read the config file (given, or `imglift.yaml` in `cwd` or a parent), then
    /// resolve it with the overrides.
    pub fn load(cwd: &Path, overrides: &Overrides) -> Result<Config, ConfigError> {
        let file = match &overrides.config {
            Some(path) => {
                let path = cwd.join(path);
                if !path.is_file() {
                    return Err(ConfigError::NotFound { path });
                }
                path
            }
            None => find_config(cwd).ok_or_else(|| ConfigError::NoConfig {
                dir: cwd.to_path_buf(),
            })?,
        };
        let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::Read {
            path: file.clone(),
            source,
        })?;
        let raw = parse(&text, &file)?;
        Config::resolve(raw, Some(&file), overrides, &|name| {
            std::env::var(name).ok()
        })
    }

    /// Apply flags > environment > file > defaults, in this one place.
    pub fn resolve(
        raw: RawConfig,
        file: Option<&Path>,
        overrides: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let base = file
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let root_path = base.join(raw.root.unwrap_or_else(|| PathBuf::from(".")));
        let root = root_path
            .canonicalize()
            .map_err(|source| ConfigError::Root {
                path: root_path.clone(),
                source,
            })?;
        let under_root = |p: PathBuf| root.join(p);
        let content: Vec<PathBuf> = raw
            .content
            .unwrap_or_else(|| vec![PathBuf::from("content")])
            .into_iter()
            .map(under_root)
            .collect();
        let static_dirs = raw
            .static_dirs
            .unwrap_or_else(|| vec![PathBuf::from("static")])
            .into_iter()
            .map(under_root)
            .collect();
        let include = globs(
            "include",
            &raw.include
                .unwrap_or_else(|| vec!["**/*.md".into(), "**/*.markdown".into()]),
        )?;
        let exclude = globs("exclude", &raw.exclude.unwrap_or_default())?;

        let public_url = overrides
            .public_url
            .clone()
            .or_else(|| env("IMGLIFT_PUBLIC_URL"))
            .or(raw.public_url)
            .ok_or(ConfigError::Missing {
                key: "public_url",
                hint: "the address that serves the bucket, e.g. https://img.example.com",
            })
            .and_then(|url| check_public_url(&url))?;
        let key_text = raw.key.unwrap_or_else(|| DEFAULT_KEY.to_string());
        let key = KeyTemplate::parse(&key_text).map_err(|message| ConfigError::Invalid {
            key: "key",
            message,
        })?;

        let target = target_config(raw.target.unwrap_or_default(), &base, file)?;
        let concurrency = concurrency(raw.concurrency, overrides, env)?;
        let manifest = base.join(
            raw.manifest
                .unwrap_or_else(|| PathBuf::from("imglift.lock")),
        );
        let cache_file = manifest.parent().unwrap_or(&base).join(CACHE_FILE);
        Ok(Config {
            root,
            config_file: file.map(Path::to_path_buf),
            content,
            static_dirs,
            include,
            exclude,
            public_url,
            key,
            target,
            cache_control: raw
                .cache_control
                .unwrap_or_else(|| DEFAULT_CACHE_CONTROL.to_string()),
            concurrency,
            front_matter: raw
                .front_matter
                .unwrap_or_else(|| crate::extract::Options::default().front_matter),
            manifest,
            cache_file,
            max_size: raw.max_size.unwrap_or(DEFAULT_MAX_SIZE),
        })
    }
}

/// `target:` as configured: a folder (the default) or an S3 bucket, never both.
fn target_config(
    raw: RawTarget,
    base: &Path,
    file: Option<&Path>,
) -> Result<TargetConfig, ConfigError> {
    match raw {
        RawTarget {
            dir: Some(_),
            s3: Some(_),
        } => Err(ConfigError::Invalid {
            key: "target",
            message: "give either `dir` or `s3`, not both".into(),
        }),
        RawTarget { s3: Some(s3), .. } => Ok(TargetConfig::S3(s3_config(s3, file)?)),
        RawTarget { dir, .. } => Ok(TargetConfig::Dir(
            base.join(dir.unwrap_or_else(|| PathBuf::from("imglift-store"))),
        )),
    }
}

/// Uploads in flight: the flag, then IMGLIFT_CONCURRENCY, then the file, then the default.
fn concurrency(
    file_value: Option<usize>,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<usize, ConfigError> {
    let concurrency = match overrides.concurrency {
        Some(n) => n,
        None => match env("IMGLIFT_CONCURRENCY") {
            Some(v) => v.parse().map_err(|_| ConfigError::Invalid {
                key: "IMGLIFT_CONCURRENCY",
                message: format!("`{v}` is not a whole number"),
            })?,
            None => file_value.unwrap_or(DEFAULT_CONCURRENCY),
        },
    };
    if concurrency == 0 {
        return Err(ConfigError::Invalid {
            key: "concurrency",
            message: "must be at least 1".into(),
        });
    }
    Ok(concurrency)
}

fn find_config(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        FILE_NAMES
            .iter()
            .map(|name| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// Parse the file's text; refuse secrets before anything else so that their values are never
/// echoed by a later error message.
pub fn parse(text: &str, file: &Path) -> Result<RawConfig, ConfigError> {
    let value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| ConfigError::Parse {
        path: file.to_path_buf(),
        message: e.to_string(),
    })?;
    if let Some(key) = secret_key(&value, "") {
        return Err(ConfigError::Secret {
            path: file.to_path_buf(),
            key,
        });
    }
    if value.is_null() {
        return Ok(RawConfig::default());
    }
    serde_yaml::from_value(value).map_err(|e| ConfigError::Parse {
        path: file.to_path_buf(),
        message: e.to_string(),
    })
}

fn secret_key(value: &serde_yaml::Value, prefix: &str) -> Option<String> {
    let map = value.as_mapping()?;
    for (k, v) in map {
        let Some(k) = k.as_str() else { continue };
        let path = if prefix.is_empty() {
            k.to_string()
        } else {
            format!("{prefix}.{k}")
        };
        let lower = k.to_ascii_lowercase();
        if [
            "secret",
            "password",
            "token",
            "access_key",
            "accesskey",
            "credential",
        ]
        .iter()
        .any(|s| lower.contains(s))
        {
            return Some(path);
        }
        if let Some(found) = secret_key(v, &path) {
            return Some(found);
        }
    }
    None
}

fn globs(key: &'static str, patterns: &[String]) -> Result<GlobSet, ConfigError> {
    let mut builder = GlobSetBuilder::new();
    for p in patterns {
        let glob = Glob::new(p).map_err(|e| ConfigError::Invalid {
            key,
            message: format!("`{p}`: {e}"),
        })?;
        builder.add(glob);
    }
    builder.build().map_err(|e| ConfigError::Invalid {
        key,
        message: e.to_string(),
    })
}

fn check_public_url(url: &str) -> Result<String, ConfigError> {
    let trimmed = url.trim().trim_end_matches('/');
    let ok = (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
        && trimmed.len() > "https://".len()
        && !trimmed.contains(char::is_whitespace);
    if !ok {
        return Err(ConfigError::Invalid {
            key: "public_url",
            message: format!("`{url}` is not an http(s) address"),
        });
    }
    Ok(trimmed.to_string())
}

fn s3_config(raw: RawS3, file: Option<&Path>) -> Result<S3Config, ConfigError> {
    if let Some(e) = &raw.endpoint {
        let authority = e
            .split("://")
            .nth(1)
            .unwrap_or(e)
            .split('/')
            .next()
            .unwrap_or("");
        if authority.contains('@') {
            return Err(ConfigError::Secret {
                path: file.map_or_else(|| PathBuf::from("imglift.yaml"), Path::to_path_buf),
                key: "target.s3.endpoint (credentials in the URL)".into(),
            });
        }
    }
    let endpoint = match (raw.endpoint, raw.account_id) {
        (Some(e), _) => e.trim_end_matches('/').to_string(),
        (None, Some(id)) => format!("https://{id}.r2.cloudflarestorage.com"),
        (None, None) => {
            return Err(ConfigError::Missing {
                key: "target.s3.endpoint",
                hint: "the S3 endpoint, or `account_id` for Cloudflare R2",
            })
        }
    };
    Ok(S3Config {
        bucket: raw.bucket,
        endpoint,
        region: raw.region.unwrap_or_else(|| "auto".into()),
        acl: raw.acl,
        prefix: raw.prefix.unwrap_or_default().trim_matches('/').to_string(),
    })
}
