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
/// Against S3 or R2 each upload mostly waits a round trip: more of them in flight.
pub const DEFAULT_S3_CONCURRENCY: usize = 64;
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
    /// Publish SVGs with scripts, event handlers, `javascript:` URLs or `<foreignObject>`.
    pub allow_svg_scripts: Option<bool>,
    pub broken: Option<Broken>,
    pub ignore: Option<Vec<String>>,
    /// Mirror into `--out` the local copies of images every page now takes from the store.
    pub out_keep_lifted: Option<bool>,
}

/// How a reference to a missing image counts: `warn` (the run goes on, exit 0) or `error`
/// (exit 1). Without the key, `sync` warns and `check` errs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Broken {
    Warn,
    Error,
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
    /// R2 jurisdiction of the bucket (`eu`, `fedramp`): picks the endpoint with `account_id`.
    pub jurisdiction: Option<String>,
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
    /// The R2 jurisdiction, if one was configured (for messages).
    pub jurisdiction: Option<String>,
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
    /// Whether SVGs that can run scripts on the image domain may be published.
    pub allow_svg_scripts: bool,
    /// `broken:` as configured; each command has its own default.
    pub broken: Option<Broken>,
    /// `ignore:` destinations (as written in the page) that imglift leaves alone.
    pub ignore: GlobSet,
    /// Set when the root is a Hugo site: where its paths resolve differently.
    pub hugo: Option<crate::hugo::Hugo>,
    /// Whether `--out` keeps local copies of the images every page now takes from the store
    /// (for templates that read the files); by default they are left out.
    pub out_keep_lifted: bool,
}

impl Config {
    /// The severity of a broken reference: the flag (`--strict` / `--lenient`), else `broken:`
    /// in the file, else the command's default.
    pub fn broken_severity(
        &self,
        flag: Option<Broken>,
        default: Broken,
    ) -> crate::report::Severity {
        match flag.or(self.broken).unwrap_or(default) {
            Broken::Warn => crate::report::Severity::Warning,
            Broken::Error => crate::report::Severity::Error,
        }
    }

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
        let (root, content, static_dirs) = site_folders(&base, &raw)?;
        let include = globs(
            "include",
            &raw.include
                .unwrap_or_else(|| vec!["**/*.md".into(), "**/*.markdown".into()]),
        )?;
        let exclude = globs("exclude", &raw.exclude.unwrap_or_default())?;
        let ignore = globs("ignore", &raw.ignore.unwrap_or_default())?;
        let hugo = crate::hugo::detect(&root);

        let public_url = public_url(raw.public_url.clone(), overrides, env)?;
        let key_text = raw.key.unwrap_or_else(|| DEFAULT_KEY.to_string());
        let key = KeyTemplate::parse(&key_text).map_err(|message| ConfigError::Invalid {
            key: "key",
            message,
        })?;

        // The default store sits beside the config file; a store the file names by a relative
        // path must stay inside the root.
        let store_relative = raw
            .target
            .as_ref()
            .and_then(|t| t.dir.as_ref())
            .is_some_and(|d| d.is_relative());
        let target = target_config(raw.target.unwrap_or_default(), &base, file)?;
        let default_concurrency = match target {
            TargetConfig::S3(_) => DEFAULT_S3_CONCURRENCY,
            TargetConfig::Dir(_) => DEFAULT_CONCURRENCY,
        };
        let concurrency = concurrency(raw.concurrency, overrides, env, default_concurrency)?;
        let manifest = base.join(
            raw.manifest
                .unwrap_or_else(|| PathBuf::from("imglift.lock")),
        );
        let cache_file = manifest.parent().unwrap_or(&base).join(CACHE_FILE);
        Config {
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
            allow_svg_scripts: raw.allow_svg_scripts.unwrap_or(false),
            out_keep_lifted: raw.out_keep_lifted.unwrap_or(false),
            broken: raw.broken,
            ignore,
            hugo,
        }
        .confined(store_relative)
    }

    /// Refuse a site root that is a filesystem root or a system folder, `content` or `static`
    /// outside the root, and a folder store named by a relative path outside the root, or
    /// overlapping a content root: what imglift reads and writes stays where the user meant.
    fn confined(self, store_relative: bool) -> Result<Config, ConfigError> {
        if let Some(why) = system_folder(&self.root) {
            return Err(ConfigError::Path {
                path: self.root.clone(),
                message: format!(
                    "the site root must be the folder of one site, not {why}; set `root` to it"
                ),
            });
        }
        for (key, dirs) in [("content", &self.content), ("static", &self.static_dirs)] {
            for dir in dirs {
                if !real_path(dir).starts_with(&self.root) {
                    return Err(ConfigError::Path {
                        path: dir.clone(),
                        message: format!(
                            "`{key}` must be inside the site root {}",
                            self.root.display()
                        ),
                    });
                }
            }
        }
        if let TargetConfig::Dir(store) = &self.target {
            let real = real_path(store);
            if store_relative && !real.starts_with(&self.root) {
                return Err(ConfigError::Path {
                    path: store.clone(),
                    message: format!(
                        "`target.dir` must be inside the site root {} (give an absolute path \
                         to keep the store elsewhere)",
                        self.root.display()
                    ),
                });
            }
            // A content root that is the whole site (Jekyll) skips the store when it scans.
            let overlaps = |c: &PathBuf| {
                let c = real_path(c);
                c.starts_with(&real) || (real.starts_with(&c) && c != self.root)
            };
            if let Some(c) = self.content.iter().find(|c| overlaps(c)) {
                return Err(ConfigError::Path {
                    path: store.clone(),
                    message: format!(
                        "`target.dir` must not be inside the content root {} (nor contain \
                         it): its objects would be mixed with the pages",
                        c.display()
                    ),
                });
            }
        }
        Ok(self)
    }
}

/// The real path of `path`: symlinks resolved for the part that exists, the rest lexically.
pub fn real_path(path: &Path) -> PathBuf {
    let path = crate::fs::lexical_normalize(path);
    let mut missing = Vec::new();
    let mut existing = path.as_path();
    loop {
        if let Ok(real) = existing.canonicalize() {
            return missing.iter().rev().fold(real, |p, name| p.join(name));
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_os_string());
                existing = parent;
            }
            _ => return path,
        }
    }
}

/// Why `root` cannot be a site root: a filesystem root, or a folder of the operating system.
fn system_folder(root: &Path) -> Option<&'static str> {
    if root.parent().is_none() {
        return Some("a filesystem root");
    }
    let inside = ["/proc", "/sys", "/dev", "/etc", "/boot", "/run"];
    let exactly = [
        "/usr",
        "/bin",
        "/sbin",
        "/lib",
        "/lib64",
        "/var",
        "/opt",
        "/root",
        "/home",
        "/tmp",
        "/Users",
        "/System",
        "/Library",
        "/Applications",
        "/private",
        "/private/tmp",
        "/private/var",
    ];
    let windows = std::env::var_os("SystemRoot").map(PathBuf::from);
    if inside.iter().any(|d| root.starts_with(d))
        || exactly.iter().any(|d| root == Path::new(d))
        || windows.is_some_and(|w| root.starts_with(w))
    {
        return Some("a system folder");
    }
    None
}

/// The site root (which must exist) and the content and static folders under it.
fn site_folders(
    base: &Path,
    raw: &RawConfig,
) -> Result<(PathBuf, Vec<PathBuf>, Vec<PathBuf>), ConfigError> {
    let root_path = base.join(raw.root.clone().unwrap_or_else(|| PathBuf::from(".")));
    let root = root_path
        .canonicalize()
        .map_err(|source| ConfigError::Root {
            path: root_path.clone(),
            source,
        })?;
    let under_root = |dirs: &Option<Vec<PathBuf>>, default: &str| -> Vec<PathBuf> {
        dirs.clone()
            .unwrap_or_else(|| vec![PathBuf::from(default)])
            .into_iter()
            .map(|p| root.join(p))
            .collect()
    };
    let content = under_root(&raw.content, "content");
    let static_dirs = under_root(&raw.static_dirs, "static");
    Ok((root, content, static_dirs))
}

/// `public_url`: the flag, then IMGLIFT_PUBLIC_URL, then the file; required and checked.
fn public_url(
    file_value: Option<String>,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<String, ConfigError> {
    overrides
        .public_url
        .clone()
        .or_else(|| env("IMGLIFT_PUBLIC_URL"))
        .or(file_value)
        .ok_or(ConfigError::Missing {
            key: "public_url",
            hint: "the address that serves the bucket, e.g. https://img.example.com",
        })
        .and_then(|url| check_public_url(&url))
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

/// The most uploads in flight: each one is a thread.
pub const MAX_CONCURRENCY: usize = 256;

/// Uploads in flight: the flag, then IMGLIFT_CONCURRENCY, then the file, then the default.
fn concurrency(
    file_value: Option<usize>,
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
    default: usize,
) -> Result<usize, ConfigError> {
    let concurrency = match overrides.concurrency {
        Some(n) => n,
        None => match env("IMGLIFT_CONCURRENCY") {
            Some(v) => v.parse().map_err(|_| ConfigError::Invalid {
                key: "IMGLIFT_CONCURRENCY",
                message: format!("`{v}` is not a whole number"),
            })?,
            None => file_value.unwrap_or(default),
        },
    };
    if concurrency == 0 {
        return Err(ConfigError::Invalid {
            key: "concurrency",
            message: "must be at least 1".into(),
        });
    }
    if concurrency > MAX_CONCURRENCY {
        return Err(ConfigError::Invalid {
            key: "concurrency",
            message: format!("{concurrency} is too many; at most {MAX_CONCURRENCY}"),
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
    let value: serde_yaml::Value = serde_yaml::from_str(text).map_err(|e| match e.location() {
        Some(at) => ConfigError::ParseAt {
            path: file.to_path_buf(),
            line: at.line(),
            col: at.column(),
            message: crate::error::yaml_words(&e),
        },
        None => ConfigError::Parse {
            path: file.to_path_buf(),
            message: e.to_string(),
        },
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
    // From the text, not the value: the error then knows its line and column.
    serde_yaml::from_str(text).map_err(|e| {
        let message = plain_words(&e.to_string());
        match e.location() {
            Some(at) => ConfigError::ParseAt {
                path: file.to_path_buf(),
                line: at.line(),
                col: at.column(),
                message,
            },
            None => ConfigError::Parse {
                path: file.to_path_buf(),
                message,
            },
        }
    })
}

/// serde's message in a blogger's words: no Rust type names, and for an unknown key the
/// nearest known one ("did you mean `concurrency`?").
fn plain_words(message: &str) -> String {
    // The location is given apart.
    let message = match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    };
    if let Some(i) = message.find("unknown field `") {
        // A nested key's message starts with where it is: `target.s3: `.
        let (within, rest) = (&message[..i], &message[i + "unknown field `".len()..]);
        let unknown = rest.split('`').next().unwrap_or("");
        let known: Vec<&str> = rest
            .split_once("expected ")
            .map(|(_, list)| list.split('`').skip(1).step_by(2).collect())
            .unwrap_or_default();
        let nearest = known
            .iter()
            .map(|k| (strsim::jaro_winkler(unknown, k), *k))
            .filter(|(score, _)| *score > 0.8)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        let mut out = format!("{within}unknown key `{unknown}`");
        match nearest {
            Some((_, k)) => out.push_str(&format!(" (did you mean `{k}`?)")),
            None if !known.is_empty() => {
                out.push_str(&format!("; known keys here: {}", known.join(", ")))
            }
            None => {}
        }
        return out;
    }
    let mut out = message.to_string();
    for (jargon, plain) in [
        ("expected usize", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected a sequence", "expected a list, e.g. [a, b]"),
        ("expected a string", "expected text"),
        (
            "expected struct RawTarget",
            "expected `dir:` or `s3:` under it",
        ),
        ("expected struct RawS3", "expected keys such as `bucket:`"),
        ("invalid type: string", "got the text"),
        ("invalid type: sequence", "got a list"),
        ("invalid type: map", "got keys and values"),
        ("invalid type: integer", "got the number"),
        ("invalid type: boolean", "got"),
        ("invalid value: integer", "the number"),
    ] {
        out = out.replace(jargon, plain);
    }
    out
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
    if trimmed.contains(['?', '#']) {
        return Err(ConfigError::Invalid {
            key: "public_url",
            message: format!(
                "`{url}` has a query or a fragment; give the address that object keys are \
                 appended to, e.g. https://img.example.com or https://example.com/images"
            ),
        });
    }
    Ok(trimmed.to_string())
}

fn s3_config(raw: RawS3, file: Option<&Path>) -> Result<S3Config, ConfigError> {
    if let Some(e) = &raw.endpoint {
        if has_credentials(e) {
            return Err(ConfigError::Secret {
                path: file.map_or_else(|| PathBuf::from("imglift.yaml"), Path::to_path_buf),
                key: "target.s3.endpoint (credentials in the URL)".into(),
            });
        }
    }
    let jurisdiction = raw
        .jurisdiction
        .as_deref()
        .map(str::trim)
        .map(str::to_ascii_lowercase);
    if let Some(j) = &jurisdiction {
        if !matches!(j.as_str(), "eu" | "fedramp") {
            return Err(ConfigError::Invalid {
                key: "target.s3.jurisdiction",
                message: format!("`{j}` is not an R2 jurisdiction; use `eu` or `fedramp`, or leave it out for the default"),
            });
        }
        if raw.endpoint.is_some() {
            return Err(ConfigError::Invalid {
                key: "target.s3.jurisdiction",
                message: "goes with `account_id`; with `endpoint`, write the jurisdiction's endpoint \
                          itself (https://ACCOUNT_ID.eu.r2.cloudflarestorage.com) and drop `jurisdiction`"
                    .into(),
            });
        }
    }
    let endpoint = match (raw.endpoint, raw.account_id) {
        (Some(e), _) => endpoint_without_bucket(&e, &raw.bucket)?,
        (None, Some(id)) => match &jurisdiction {
            Some(j) => format!("https://{id}.{j}.r2.cloudflarestorage.com"),
            None => format!("https://{id}.r2.cloudflarestorage.com"),
        },
        (None, None) => {
            return Err(ConfigError::Missing {
                key: "target.s3.endpoint",
                hint: "the S3 endpoint, or `account_id` for Cloudflare R2",
            })
        }
    };
    check_bucket(&raw.bucket)?;
    let prefix = raw.prefix.unwrap_or_default().trim_matches('/').to_string();
    check_prefix(&prefix)?;
    Ok(S3Config {
        bucket: raw.bucket,
        endpoint,
        region: raw.region.unwrap_or_else(|| "auto".into()),
        acl: raw.acl,
        prefix,
        jurisdiction,
    })
}

/// The endpoint without a trailing slash. The R2 dashboard shows the bucket's "S3 API" URL,
/// `https://ACCOUNT.r2.cloudflarestorage.com/BUCKET`: a path equal to the bucket is dropped
/// (path-style requests add it again); any other path is refused, since every object would land
/// under it.
fn endpoint_without_bucket(endpoint: &str, bucket: &str) -> Result<String, ConfigError> {
    let trimmed = endpoint.trim().trim_end_matches('/');
    let after_scheme = trimmed.find("://").map_or(0, |i| i + 3);
    let Some(slash) = trimmed[after_scheme..].find('/').map(|i| i + after_scheme) else {
        return Ok(trimmed.to_string());
    };
    let (base, path) = trimmed.split_at(slash);
    if path.trim_start_matches('/') == bucket {
        return Ok(base.to_string());
    }
    Err(ConfigError::Invalid {
        key: "target.s3.endpoint",
        message: format!(
            "`{endpoint}` has a path (`{path}`); write the endpoint without it ({base}) and put \
             the bucket name in `bucket:` (a folder inside the bucket goes in `prefix:`)"
        ),
    })
}

/// Whether a URL carries credentials (`https://KEY:SECRET@host`): an `@` before the path.
pub fn has_credentials(url: &str) -> bool {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    after_scheme
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("")
        .contains('@')
}

/// S3 bucket naming rules (R2's are the same): 3 to 63 lowercase letters, digits, `-` and `.`,
/// starting and ending with a letter or digit, no `..`, not an IP address.
fn check_bucket(bucket: &str) -> Result<(), ConfigError> {
    let alnum = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let b = bucket.as_bytes();
    let ok = (3..=63).contains(&b.len())
        && b.iter().all(|&c| alnum(c) || c == b'-' || c == b'.')
        && alnum(b[0])
        && alnum(b[b.len() - 1])
        && !bucket.contains("..")
        && bucket.parse::<std::net::Ipv4Addr>().is_err();
    if ok {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        key: "target.s3.bucket",
        message: format!(
            "`{}` is not a bucket name: 3 to 63 lowercase letters, digits, `-` and `.`, \
             starting and ending with a letter or digit",
            bucket.escape_debug()
        ),
    })
}

/// A key prefix is folder names joined by `/`: none empty, `.` or `..`, no control characters
/// or backslashes, so that every key stays inside the bucket and under the prefix.
fn check_prefix(prefix: &str) -> Result<(), ConfigError> {
    if prefix.is_empty() {
        return Ok(());
    }
    let bad = prefix.split('/').find(|seg| {
        seg.is_empty()
            || *seg == "."
            || *seg == ".."
            || seg.contains(|c: char| c.is_control() || c == '\\')
    });
    match bad {
        None => Ok(()),
        Some(seg) => Err(ConfigError::Invalid {
            key: "target.s3.prefix",
            message: format!(
                "`{}`: the folder `{}` is not allowed (no empty, `.` or `..` parts, no \
                 backslashes or control characters)",
                prefix.escape_debug(),
                seg.escape_debug()
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "https://img.example.com";

    fn parse_ok(text: &str) -> RawConfig {
        parse(text, Path::new("imglift.yaml")).unwrap_or_else(|e| panic!("{e}\n{text}"))
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    /// Resolve `text` as `<dir>/imglift.yaml` with the given flags and environment.
    fn resolve_in(
        dir: &Path,
        text: &str,
        overrides: &Overrides,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let file = dir.join("imglift.yaml");
        Config::resolve(parse_ok(text), Some(&file), overrides, env)
    }

    fn resolve_ok(dir: &Path, text: &str) -> Config {
        resolve_in(dir, text, &Overrides::default(), &no_env).unwrap_or_else(|e| panic!("{e}"))
    }

    fn flags(public_url: Option<&str>, concurrency: Option<usize>) -> Overrides {
        Overrides {
            config: None,
            public_url: public_url.map(String::from),
            concurrency,
        }
    }

    #[test]
    fn an_unknown_key_is_an_error_naming_it() {
        for (text, key) in [
            ("publik_url: https://img.example.com\n", "publik_url"),
            ("target:\n  dri: store\n", "dri"),
            (
                "target:\n  s3:\n    bucket: blog\n    bukket: c\n",
                "bukket",
            ),
        ] {
            let err = parse(text, Path::new("site/imglift.yaml")).unwrap_err();
            assert!(matches!(err, ConfigError::ParseAt { .. }), "{err:?}");
            let shown = err.to_string();
            assert!(shown.contains(key), "{shown}");
            assert!(shown.contains("site/imglift.yaml"), "{shown}");
        }
    }

    #[test]
    fn errors_say_where_in_plain_words_and_suggest_a_key() {
        let err = parse(
            "public_url: https://x\nconcurency: 4\n",
            Path::new("imglift.yaml"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with(
                "imglift.yaml:2:1: unknown key `concurency` (did you mean `concurrency`?)"
            ),
            "{err}"
        );
        let err = parse("concurrency: many\n", Path::new("imglift.yaml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("imglift.yaml:1:14: "), "{err}");
        assert!(
            err.contains("whole number") && !err.contains("usize"),
            "{err}"
        );
        let err = parse(
            "target:\n  s3:\n    bucket: b\n    endpiont: x\n",
            Path::new("imglift.yaml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("did you mean `endpoint`?"), "{err}");
    }

    #[test]
    fn invalid_yaml_and_wrong_types_are_parse_errors() {
        for text in [
            "public_url: [unclosed\n",
            "concurrency: many\n",
            "content: images\n",
        ] {
            let err = parse(text, Path::new("imglift.yaml")).unwrap_err();
            assert!(
                matches!(err, ConfigError::Parse { .. } | ConfigError::ParseAt { .. }),
                "{text}: {err:?}"
            );
        }
    }

    #[test]
    fn an_empty_or_comment_only_file_is_all_defaults() {
        for text in ["", "# nothing yet\n"] {
            let raw = parse_ok(text);
            assert!(raw.public_url.is_none() && raw.target.is_none() && raw.root.is_none());
        }
    }

    #[test]
    fn secrets_in_the_file_are_refused_without_echoing_them() {
        for (text, key) in [
            (
                "target:\n  s3:\n    bucket: blog\n    secret_access_key: HUNTER2value\n",
                "target.s3.secret_access_key",
            ),
            (
                "target:\n  s3:\n    bucket: blog\n    access_key_id: HUNTER2value\n",
                "target.s3.access_key_id",
            ),
            (
                "AWS_SECRET_ACCESS_KEY: HUNTER2value\n",
                "AWS_SECRET_ACCESS_KEY",
            ),
            ("AccessKeyId: HUNTER2value\n", "AccessKeyId"),
            ("password: HUNTER2value\n", "password"),
            ("session_token: HUNTER2value\n", "session_token"),
            ("credentials:\n  id: HUNTER2value\n", "credentials"),
            // Refused before the unknown key is reported.
            ("bogus: 1\nsecret: HUNTER2value\n", "secret"),
        ] {
            let err = parse(text, Path::new("imglift.yaml")).unwrap_err();
            match &err {
                ConfigError::Secret { key: k, .. } => assert_eq!(k, key, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
            let shown = err.to_string();
            assert!(shown.contains(key), "{shown}");
            assert!(!shown.contains("HUNTER2value"), "{shown}");
        }
    }

    #[test]
    fn credentials_in_the_endpoint_url_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for endpoint in [
            "https://AKIAEXAMPLE:HUNTER2value@s3.example.com",
            "https://token@s3.example.com/",
            "AKIAEXAMPLE:HUNTER2value@s3.example.com",
        ] {
            let text = format!(
                "public_url: {PUBLIC}\ntarget:\n  s3:\n    bucket: blog\n    endpoint: {endpoint}\n"
            );
            let err = resolve_in(dir.path(), &text, &Overrides::default(), &no_env).unwrap_err();
            assert!(
                matches!(err, ConfigError::Secret { .. }),
                "{endpoint}: {err:?}"
            );
            assert!(!err.to_string().contains("HUNTER2value"), "{err}");
        }
        // An `@` after the host is part of the path, not credentials (and a path is refused
        // for what it is).
        let text = format!(
            "public_url: {PUBLIC}\ntarget:\n  s3:\n    bucket: blog\n    endpoint: https://s3.example.com/@x\n"
        );
        let err = resolve_in(dir.path(), &text, &Overrides::default(), &no_env).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    key: "target.s3.endpoint",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn defaults_are_applied() {
        let dir = tempfile::tempdir().unwrap();
        let c = resolve_ok(dir.path(), &format!("public_url: {PUBLIC}\n"));
        let root = dir.path().canonicalize().unwrap();
        assert_eq!(c.root, root);
        assert_eq!(
            c.config_file.as_deref(),
            Some(&*dir.path().join("imglift.yaml"))
        );
        assert_eq!(c.content, [root.join("content")]);
        assert_eq!(c.static_dirs, [root.join("static")]);
        assert!(c.include.is_match("content/posts/a.md"));
        assert!(c.include.is_match("b.markdown"));
        assert!(!c.include.is_match("content/a.txt"));
        assert!(!c.exclude.is_match("content/posts/a.md"));
        assert_eq!(c.public_url, PUBLIC);
        assert_eq!(c.cache_control, "public, max-age=31536000, immutable");
        assert_eq!(c.concurrency, 16);
        assert_eq!(c.max_size, 20 * 1024 * 1024);
        assert_eq!(c.manifest, dir.path().join("imglift.lock"));
        assert_eq!(c.cache_file, dir.path().join(".imglift-cache"));
        for key in [
            "image",
            "images",
            "cover.image",
            "featured_image",
            "image.path",
            "extra.image",
        ] {
            assert!(c.front_matter.iter().any(|k| k == key), "{key}");
        }
        match &c.target {
            TargetConfig::Dir(d) => assert_eq!(d, &dir.path().join("imglift-store")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn values_from_the_file_replace_the_defaults() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("site")).unwrap();
        let text = format!(
            "root: site\ncontent: [posts, pages]\nstatic: [public]\ninclude: ['**/*.mdx']\n\
             exclude: ['drafts/**']\npublic_url: {PUBLIC}\ncache_control: no-cache\n\
             concurrency: 3\nfront_matter: [hero]\nmanifest: state/lift.lock\nmax_size: 1000\n"
        );
        let c = resolve_ok(dir.path(), &text);
        let root = dir.path().join("site").canonicalize().unwrap();
        assert_eq!(c.root, root);
        assert_eq!(c.content, [root.join("posts"), root.join("pages")]);
        assert_eq!(c.static_dirs, [root.join("public")]);
        assert!(c.include.is_match("posts/a.mdx"));
        assert!(!c.include.is_match("posts/a.md"));
        assert!(c.exclude.is_match("drafts/a.mdx"));
        assert_eq!(c.cache_control, "no-cache");
        assert_eq!(c.concurrency, 3);
        assert_eq!(c.front_matter, ["hero"]);
        // Relative to the config file's folder, not to the root.
        assert_eq!(c.manifest, dir.path().join("state/lift.lock"));
        assert_eq!(c.cache_file, dir.path().join("state/.imglift-cache"));
        assert_eq!(c.max_size, 1000);
    }

    #[test]
    fn public_url_flag_beats_environment_beats_file() {
        let dir = tempfile::tempdir().unwrap();
        let text = "public_url: https://file.example.com\n";
        let env = |k: &str| (k == "IMGLIFT_PUBLIC_URL").then(|| "https://env.example.com".into());
        let got = |o: &Overrides, e: &dyn Fn(&str) -> Option<String>| {
            resolve_in(dir.path(), text, o, e).unwrap().public_url
        };
        let flag = flags(Some("https://flag.example.com/"), None);
        assert_eq!(got(&flag, &env), "https://flag.example.com");
        assert_eq!(got(&Overrides::default(), &env), "https://env.example.com");
        assert_eq!(
            got(&Overrides::default(), &no_env),
            "https://file.example.com"
        );
        // Given only by a flag or the environment, the file need not have it.
        let c = resolve_in(dir.path(), "", &Overrides::default(), &env).unwrap();
        assert_eq!(c.public_url, "https://env.example.com");
        let err = resolve_in(dir.path(), "", &Overrides::default(), &no_env).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Missing {
                    key: "public_url",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn concurrency_flag_beats_environment_beats_file_beats_default() {
        let dir = tempfile::tempdir().unwrap();
        let env = |k: &str| (k == "IMGLIFT_CONCURRENCY").then(|| "7".into());
        let with_file = format!("public_url: {PUBLIC}\nconcurrency: 5\n");
        let without = format!("public_url: {PUBLIC}\n");
        let got = |text: &str, o: &Overrides, e: &dyn Fn(&str) -> Option<String>| {
            resolve_in(dir.path(), text, o, e).unwrap().concurrency
        };
        assert_eq!(got(&with_file, &flags(None, Some(2)), &env), 2);
        assert_eq!(got(&with_file, &Overrides::default(), &env), 7);
        assert_eq!(got(&with_file, &Overrides::default(), &no_env), 5);
        assert_eq!(got(&without, &Overrides::default(), &no_env), 16);

        let bad_env = |k: &str| (k == "IMGLIFT_CONCURRENCY").then(|| "lots".into());
        let err = resolve_in(dir.path(), &without, &Overrides::default(), &bad_env).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Invalid {
                    key: "IMGLIFT_CONCURRENCY",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("lots"), "{err}");
        // A flag is not overruled by a bad environment value.
        assert_eq!(got(&without, &flags(None, Some(4)), &bad_env), 4);
        for (text, o) in [
            (format!("{without}concurrency: 0\n"), Overrides::default()),
            (without.clone(), flags(None, Some(0))),
        ] {
            let err = resolve_in(dir.path(), &text, &o, &no_env).unwrap_err();
            assert!(
                matches!(
                    err,
                    ConfigError::Invalid {
                        key: "concurrency",
                        ..
                    }
                ),
                "{err:?}"
            );
        }
    }

    #[test]
    fn public_url_with_a_query_or_fragment_is_refused() {
        for url in [
            "https://img.example.com/?x=1",
            "https://img.example.com#top",
        ] {
            let err = check_public_url(url).unwrap_err().to_string();
            assert!(err.contains("query or a fragment"), "{url}: {err}");
        }
        assert!(check_public_url("https://example.com/images/").is_ok());
    }

    #[test]
    fn public_url_must_be_an_http_address() {
        let dir = tempfile::tempdir().unwrap();
        for bad in [
            "img.example.com",
            "ftp://img.example.com",
            "https://",
            "https:///",
            "https://img example.com",
            "s3://bucket",
            "/images",
        ] {
            let err = resolve_in(dir.path(), "", &flags(Some(bad), None), &no_env).unwrap_err();
            assert!(
                matches!(
                    err,
                    ConfigError::Invalid {
                        key: "public_url",
                        ..
                    }
                ),
                "{bad}: {err:?}"
            );
        }
        for (good, want) in [
            ("https://img.example.com", "https://img.example.com"),
            ("https://img.example.com/", "https://img.example.com"),
            ("  https://img.example.com//  ", "https://img.example.com"),
            (
                "http://localhost:8080/images/",
                "http://localhost:8080/images",
            ),
        ] {
            let c = resolve_in(dir.path(), "", &flags(Some(good), None), &no_env).unwrap();
            assert_eq!(c.public_url, want, "{good}");
        }
    }

    #[test]
    fn target_dir_or_s3() {
        let dir = tempfile::tempdir().unwrap();
        let c = resolve_ok(
            dir.path(),
            &format!("public_url: {PUBLIC}\ntarget:\n  dir: out/images\n"),
        );
        match c.target {
            TargetConfig::Dir(d) => assert_eq!(d, dir.path().join("out/images")),
            other => panic!("{other:?}"),
        }

        let c = resolve_ok(
            dir.path(),
            &format!(
                "public_url: {PUBLIC}\ntarget:\n  s3:\n    bucket: blog\n    endpoint: https://s3.example.com/\n    region: eu-west-1\n    acl: public-read\n    prefix: /site/images/\n"
            ),
        );
        match c.target {
            TargetConfig::S3(s3) => {
                assert_eq!(s3.bucket, "blog");
                assert_eq!(s3.endpoint, "https://s3.example.com");
                assert_eq!(s3.region, "eu-west-1");
                assert_eq!(s3.acl.as_deref(), Some("public-read"));
                assert_eq!(s3.prefix, "site/images");
            }
            other => panic!("{other:?}"),
        }

        let err = resolve_in(
            dir.path(),
            &format!("public_url: {PUBLIC}\ntarget:\n  dir: x\n  s3:\n    bucket: blog\n    endpoint: https://s3.example.com\n"),
            &Overrides::default(),
            &no_env,
        )
        .unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { key: "target", .. }),
            "{err:?}"
        );

        let err = parse(
            "target:\n  s3:\n    endpoint: https://s3.example.com\n",
            Path::new("imglift.yaml"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("bucket"), "{err}");
    }

    #[test]
    fn s3_account_id_gives_the_r2_endpoint() {
        let dir = tempfile::tempdir().unwrap();
        let s3 = |body: &str| {
            let c = resolve_ok(
                dir.path(),
                &format!("public_url: {PUBLIC}\ntarget:\n  s3:\n    bucket: blog\n{body}"),
            );
            match c.target {
                TargetConfig::S3(s3) => s3,
                other => panic!("{other:?}"),
            }
        };
        let r2 = s3("    account_id: 0123abcd\n");
        assert_eq!(r2.endpoint, "https://0123abcd.r2.cloudflarestorage.com");
        assert_eq!(r2.region, "auto");
        assert_eq!(r2.acl, None);
        assert_eq!(r2.prefix, "");
        // An explicit endpoint wins.
        let both = s3("    account_id: 0123abcd\n    endpoint: https://minio.local:9000\n");
        assert_eq!(both.endpoint, "https://minio.local:9000");

        let err = resolve_in(
            dir.path(),
            &format!("public_url: {PUBLIC}\ntarget:\n  s3:\n    bucket: blog\n"),
            &Overrides::default(),
            &no_env,
        )
        .unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Missing {
                    key: "target.s3.endpoint",
                    ..
                }
            ),
            "{err:?}"
        );
    }

    /// A config with `target.s3.bucket: blog` and these more `target.s3` lines.
    fn s3_target(dir: &Path, body: &str) -> Result<Config, ConfigError> {
        resolve_in(
            dir,
            &format!("public_url: {PUBLIC}\ntarget:\n  s3:\n    bucket: blog\n{body}"),
            &Overrides::default(),
            &no_env,
        )
    }

    #[test]
    fn the_dashboard_s3_api_url_with_the_bucket_is_accepted_and_other_paths_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let config = |body: &str| s3_target(dir.path(), body);
        for url in [
            "https://0123abcd.r2.cloudflarestorage.com/blog",
            "https://0123abcd.r2.cloudflarestorage.com/blog/",
        ] {
            match config(&format!("    endpoint: {url}\n")).unwrap().target {
                TargetConfig::S3(s3) => {
                    assert_eq!(
                        s3.endpoint, "https://0123abcd.r2.cloudflarestorage.com",
                        "{url}"
                    )
                }
                other => panic!("{other:?}"),
            }
        }
        let err = config("    endpoint: https://s3.example.com/other\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("target.s3.endpoint")
                && err.contains("https://s3.example.com)")
                && err.contains("prefix"),
            "{err}"
        );
    }

    #[test]
    fn a_jurisdiction_picks_the_r2_endpoint_and_is_checked() {
        let dir = tempfile::tempdir().unwrap();
        let config = |body: &str| s3_target(dir.path(), body);
        for (j, host) in [
            ("eu", "https://0123abcd.eu.r2.cloudflarestorage.com"),
            (
                "fedramp",
                "https://0123abcd.fedramp.r2.cloudflarestorage.com",
            ),
            ("EU", "https://0123abcd.eu.r2.cloudflarestorage.com"),
        ] {
            match config(&format!(
                "    account_id: 0123abcd\n    jurisdiction: {j}\n"
            ))
            .unwrap()
            .target
            {
                TargetConfig::S3(s3) => assert_eq!(s3.endpoint, host, "{j}"),
                other => panic!("{other:?}"),
            }
        }
        let err = config("    account_id: a\n    jurisdiction: mars\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("jurisdiction") && err.contains("fedramp"),
            "{err}"
        );
        let err = config("    endpoint: https://s3.example.com\n    jurisdiction: eu\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("account_id"), "{err}");
    }

    #[test]
    fn bad_globs_key_templates_and_roots_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let base = format!("public_url: {PUBLIC}\n");
        for (extra, key) in [
            ("include: ['**/[.md']\n", "include"),
            ("exclude: ['a/{b']\n", "exclude"),
            ("key: '{nope}/{fileName}'\n", "key"),
        ] {
            let err = resolve_in(
                dir.path(),
                &format!("{base}{extra}"),
                &Overrides::default(),
                &no_env,
            )
            .unwrap_err();
            match err {
                ConfigError::Invalid { key: k, .. } => assert_eq!(k, key, "{extra}"),
                other => panic!("{extra}: {other:?}"),
            }
        }
        let err = resolve_in(
            dir.path(),
            &format!("{base}root: no-such-folder\n"),
            &Overrides::default(),
            &no_env,
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::Root { .. }), "{err:?}");
    }

    #[test]
    fn load_finds_the_file_in_a_parent_folder() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("imglift.yaml");
        std::fs::write(
            &file,
            format!("public_url: {PUBLIC}\ntarget:\n  dir: store\n"),
        )
        .unwrap();
        let deep = dir.path().join("content/posts");
        std::fs::create_dir_all(&deep).unwrap();
        let c = Config::load(&deep, &Overrides::default()).unwrap();
        assert_eq!(c.config_file.as_deref(), Some(&*file));
        assert_eq!(c.root, dir.path().canonicalize().unwrap());
        match c.target {
            TargetConfig::Dir(d) => assert_eq!(d, dir.path().join("store")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn load_reads_imglift_yml_and_an_explicit_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("imglift.yml"),
            format!("public_url: {PUBLIC}\n"),
        )
        .unwrap();
        let c = Config::load(dir.path(), &Overrides::default()).unwrap();
        assert_eq!(c.config_file, Some(dir.path().join("imglift.yml")));

        std::fs::create_dir(dir.path().join("conf")).unwrap();
        std::fs::write(
            dir.path().join("conf/other.yaml"),
            format!("root: ..\npublic_url: {PUBLIC}\n"),
        )
        .unwrap();
        let o = Overrides {
            config: Some("conf/other.yaml".into()),
            ..Overrides::default()
        };
        let c = Config::load(dir.path(), &o).unwrap();
        assert_eq!(c.config_file, Some(dir.path().join("conf/other.yaml")));
        assert_eq!(c.root, dir.path().canonicalize().unwrap());

        let o = Overrides {
            config: Some("conf/missing.yaml".into()),
            ..Overrides::default()
        };
        let err = Config::load(dir.path(), &o).unwrap_err();
        assert!(matches!(err, ConfigError::NotFound { .. }), "{err:?}");
    }

    #[test]
    fn load_without_a_config_file_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let has_one = dir
            .path()
            .ancestors()
            .any(|d| FILE_NAMES.iter().any(|n| d.join(n).is_file()));
        if has_one {
            // A stray imglift.yaml above the temp folder; nothing to check here.
            return;
        }
        let err = Config::load(dir.path(), &Overrides::default()).unwrap_err();
        assert!(matches!(err, ConfigError::NoConfig { .. }), "{err:?}");
    }

    #[test]
    fn load_refuses_a_secret_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("imglift.yaml"),
            format!("public_url: {PUBLIC}\ntarget:\n  s3:\n    bucket: blog\n    account_id: a\n    secret_access_key: HUNTER2value\n"),
        )
        .unwrap();
        let err = Config::load(dir.path(), &Overrides::default()).unwrap_err();
        assert!(matches!(err, ConfigError::Secret { .. }), "{err:?}");
        assert!(!err.to_string().contains("HUNTER2value"), "{err}");
    }
}
