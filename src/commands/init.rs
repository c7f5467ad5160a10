//! Init: write an annotated `imglift.yaml` for the site in the current folder, then print the
//! steps of the R2 setup that no file can do (bucket, custom domain, scoped token, secrets).
//!
//! The generator (Hugo, Zola, Jekyll) decides the content and static folders and the
//! front-matter keys; it is given with `--generator` or detected from the files present. Values
//! given by flags are checked and written quoted; what is not given is left commented out, so
//! that the first run says what is missing instead of rewriting pages to a made-up address.
//! Secrets are never written: the config loader refuses them, and the next steps say where they
//! go. An existing config is never replaced without `--force`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::Generator;
use crate::config::CACHE_FILE;
use crate::error::{ConfigError, Exit};

#[derive(Debug, Clone, Default)]
pub struct InitOptions {
    /// Where to write (default `imglift.yaml` in the current folder).
    pub file: Option<PathBuf>,
    pub bucket: Option<String>,
    pub account_id: Option<String>,
    pub endpoint: Option<String>,
    pub public_url: Option<String>,
    pub generator: Option<Generator>,
    pub force: bool,
}

/// The folders and keys of one kind of site.
struct Layout {
    content: &'static str,
    static_dirs: &'static str,
    exclude: &'static str,
    front_matter: &'static str,
    note: &'static str,
}

fn layout(generator: Option<Generator>) -> Layout {
    match generator {
        Some(Generator::Hugo) => Layout {
            content: "[content]",
            static_dirs: "[static]",
            exclude: "[]",
            front_matter: "[image, images, cover.image, featured_image]",
            note: "Hugo: pages and page bundles under content/, shared files under static/; \
                   as Hugo serves them, /paths also resolve in assets/ (figure shortcode, render \
                   hook) and against lowercased page URLs (unless disablePathToLower)",
        },
        Some(Generator::Zola) => Layout {
            content: "[content]",
            static_dirs: "[static]",
            exclude: "[]",
            front_matter: "[extra.image, extra.images, extra.cover.image]",
            note: "Zola: pages and co-located assets under content/, shared files under static/; \
                   images that a template passes to resize_image are left alone",
        },
        Some(Generator::Jekyll) => Layout {
            content: "[.]",
            static_dirs: "[.]",
            exclude:
                "[\"_site/**\", \"_build/**\", \"_layouts/**\", \"_includes/**\", \"_sass/**\", \
                      \".jekyll-cache/**\", \"vendor/**\", \"node_modules/**\"]",
            front_matter: "[image, image.path]",
            note: "Jekyll: posts in _posts/ and pages anywhere, so the whole site is scanned; \
                   {{ site.baseurl }}/x.png resolves like /x.png",
        },
        None => Layout {
            content: "[content]",
            static_dirs: "[static]",
            exclude: "[]",
            front_matter: "[image, images, cover.image, featured_image]",
            note:
                "no site generator recognised: Markdown under content/, shared files under static/",
        },
    }
}

/// Recognise the generator from the files in `dir`, with the file that gave it away.
pub fn detect(dir: &Path) -> Option<(Generator, &'static str)> {
    for name in ["hugo.toml", "hugo.yaml", "hugo.yml", "hugo.json"] {
        if dir.join(name).is_file() {
            return Some((Generator::Hugo, name));
        }
    }
    for name in ["_config.yml", "_config.yaml", "_config.toml"] {
        if dir.join(name).is_file() {
            return Some((Generator::Jekyll, name));
        }
    }
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    if let Some(text) = read("config.toml") {
        // Zola spells it `base_url`, Hugo `baseURL` (its keys are case-insensitive).
        if has_key(&text, "base_url") {
            return Some((Generator::Zola, "config.toml"));
        }
        if has_key(&text.to_ascii_lowercase(), "baseurl") || dir.join("content").is_dir() {
            return Some((Generator::Hugo, "config.toml"));
        }
    }
    for name in ["config.yaml", "config.yml", "config.json"] {
        if let Some(text) = read(name) {
            if text.to_ascii_lowercase().contains("baseurl") {
                return Some((Generator::Hugo, name));
            }
        }
    }
    None
}

/// Whether a TOML or YAML line sets `key` at the start of a line.
fn has_key(text: &str, key: &str) -> bool {
    text.lines().any(|l| {
        let l = l.trim_start().trim_start_matches('"');
        l.strip_prefix(key).is_some_and(|rest| {
            let rest = rest.trim_start_matches('"').trim_start();
            rest.starts_with('=') || rest.starts_with(':')
        })
    })
}

/// A YAML double-quoted scalar (JSON string syntax is valid YAML).
fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn invalid(key: &'static str, message: String) -> ConfigError {
    ConfigError::Invalid { key, message }
}

fn check_options(opts: &InitOptions) -> Result<(), ConfigError> {
    if let Some(b) = &opts.bucket {
        let ok = (3..=63).contains(&b.len())
            && b.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-' || c == b'.')
            && !b.starts_with('-')
            && !b.ends_with('-');
        if !ok {
            return Err(invalid(
                "--bucket",
                format!("`{b}` is not a bucket name (3-63 lowercase letters, digits and hyphens)"),
            ));
        }
    }
    if let Some(id) = &opts.account_id {
        if id.is_empty() || !id.bytes().all(|c| c.is_ascii_alphanumeric()) {
            return Err(invalid(
                "--account-id",
                format!("`{id}` is not a Cloudflare account id (letters and digits, as shown on the R2 page)"),
            ));
        }
    }
    for (key, value) in [
        ("--public-url", &opts.public_url),
        ("--endpoint", &opts.endpoint),
    ] {
        if let Some(url) = value {
            if crate::config::has_credentials(url) {
                // Never echo the value: it holds a secret.
                return Err(invalid(
                    key,
                    "the address carries credentials (`user:password@`); give the bare \
                     address, and export IMGLIFT_ACCESS_KEY_ID and IMGLIFT_SECRET_ACCESS_KEY \
                     in the environment instead"
                        .to_string(),
                ));
            }
            let ok = (url.starts_with("https://") || url.starts_with("http://"))
                && url.len() > "https://".len()
                && !url.contains(char::is_whitespace);
            if !ok {
                return Err(invalid(key, format!("`{url}` is not an http(s) address")));
            }
        }
    }
    Ok(())
}

/// The annotated config text.
pub fn render(
    opts: &InitOptions,
    generator: Option<Generator>,
    detected_from: Option<&str>,
) -> String {
    let l = layout(generator);
    let mut t = String::new();
    let origin = match (generator, detected_from) {
        (Some(_), Some(file)) => format!(" (detected from {file})"),
        (Some(_), None) => " (--generator)".to_string(),
        _ => String::new(),
    };
    t.push_str("# imglift.yaml: written by `imglift init`. Paths are relative to this file.\n");
    t.push_str(
        "# Unknown keys are errors. Flags > environment (IMGLIFT_*) > this file > defaults.\n",
    );
    t.push_str(&format!("# Site layout: {}{origin}.\n\n", l.note));
    t.push_str(
        "root: .                          # site root: nothing outside it is ever uploaded\n",
    );
    t.push_str(&format!(
        "content: {:<23} # Markdown roots, relative to root\n",
        l.content
    ));
    t.push_str(&format!(
        "static: {:<24} # where site-absolute paths (/img/a.png) resolve\n",
        l.static_dirs
    ));
    t.push_str("include: [\"**/*.md\", \"**/*.markdown\"]\n");
    t.push_str(&format!("exclude: {}\n", l.exclude));
    t.push_str(&format!(
        "front_matter: {}   # front-matter keys holding image paths (dotted = nested)\n\n",
        l.front_matter
    ));
    t.push_str(
        "# The address that serves the bucket (the custom domain connected to it). Every lifted\n",
    );
    t.push_str("# reference becomes <public_url>/<key>.\n");
    match &opts.public_url {
        Some(url) => t.push_str(&format!(
            "public_url: {}\n",
            quote(url.trim_end_matches('/'))
        )),
        None => t.push_str(
            "# public_url: https://img.example.com    # required: fill in, or pass --public-url\n",
        ),
    }
    t.push_str("key: \"{hash:16}/{fileName}.{extName}\"   # object key; PicGo's {year}/{month}/{fileName}.{extName} works too\n\n");
    t.push_str(&target_section(opts));
    t.push_str("# Credentials are never written here: export IMGLIFT_ACCESS_KEY_ID and\n");
    t.push_str("# IMGLIFT_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), or use CI secrets.\n\n");
    t.push_str("cache_control: \"public, max-age=31536000, immutable\"\n");
    t.push_str("# concurrency: 64                # uploads and verify requests in flight (default: 16 with a folder, 64 with S3 or R2)\n");
    t.push_str("max_size: 20971520               # bytes; larger files are refused\n");
    t.push_str(
        "manifest: imglift.lock           # commit it; .imglift-cache beside it is local only\n",
    );
    t
}

/// The `target:` section: the S3 store when a bucket was given, else the local folder.
fn target_section(opts: &InitOptions) -> String {
    let mut t = String::from("target:\n");
    match &opts.bucket {
        Some(bucket) => {
            t.push_str(
                "  s3:                             # Cloudflare R2 (or any S3-compatible store)\n",
            );
            t.push_str(&format!("    bucket: {}\n", quote(bucket)));
            match (&opts.endpoint, &opts.account_id) {
                (Some(e), _) => t.push_str(&format!("    endpoint: {}\n", quote(e.trim_end_matches('/')))),
                (None, Some(id)) => t.push_str(&format!(
                    "    account_id: {}          # endpoint https://<account_id>.r2.cloudflarestorage.com\n",
                    quote(id)
                )),
                (None, None) => t.push_str(
                    "    # account_id: YOUR_ACCOUNT_ID  # required: the id on the R2 page (or endpoint: https://...)\n",
                ),
            }
            t.push_str("    region: auto                  # R2 wants `auto`\n");
            t.push_str(
                "    # acl: public-read            # R2 rejects ACL headers: leave unset for R2\n",
            );
            t.push_str(
                "    # prefix: blog                # a folder inside the bucket for every key\n",
            );
        }
        None => {
            t.push_str(
                "  dir: imglift-store              # a local folder; serve or sync it yourself\n",
            );
            t.push_str("  # s3:                           # or Cloudflare R2 / another S3-compatible store:\n");
            t.push_str("  #   bucket: blog-images\n");
            t.push_str("  #   account_id: YOUR_ACCOUNT_ID  # or endpoint: https://ACCOUNT_ID.r2.cloudflarestorage.com\n");
            t.push_str("  #   region: auto\n");
        }
    }
    t
}

/// `imglift init`: write the config, add the stat cache to `.gitignore`, print the next steps.
pub fn init(cwd: &Path, opts: &InitOptions, out: &mut dyn Write) -> Result<Exit, ConfigError> {
    check_options(opts)?;
    let file = cwd.join(opts.file.as_deref().unwrap_or(Path::new("imglift.yaml")));
    let dir = file.parent().unwrap_or(cwd).to_path_buf();
    if !opts.force {
        let existing = std::iter::once(file.clone())
            .chain(crate::config::FILE_NAMES.iter().map(|n| dir.join(n)))
            .find(|p| p.exists());
        if let Some(path) = existing {
            return Err(ConfigError::Path {
                path,
                message: "already exists; pass --force to overwrite it".into(),
            });
        }
    }
    let (generator, from) = match opts.generator {
        Some(g) => (Some(g), None),
        None => match detect(&dir) {
            Some((g, f)) => (Some(g), Some(f)),
            None => (None, None),
        },
    };
    let text = render(opts, generator, from);
    std::fs::create_dir_all(&dir).map_err(|e| ConfigError::Path {
        path: dir.clone(),
        message: e.to_string(),
    })?;
    crate::fs::write_atomic(&file, text.as_bytes()).map_err(|e| ConfigError::Path {
        path: file.clone(),
        message: format!("cannot write: {e}"),
    })?;
    let shown = file
        .strip_prefix(cwd)
        .unwrap_or(&file)
        .display()
        .to_string();
    let kind = match generator {
        Some(Generator::Hugo) => "a Hugo site",
        Some(Generator::Zola) => "a Zola site",
        Some(Generator::Jekyll) => "a Jekyll site",
        None => "a Markdown site",
    };
    let from = match (generator, from) {
        (Some(_), Some(f)) => format!(", recognised by {f}"),
        (Some(_), None) => ", as --generator says".into(),
        _ => String::new(),
    };
    let _ = writeln!(out, "wrote {shown} for {kind}{from}");
    let gitignore = dir.join(".gitignore");
    let mut entries = vec![CACHE_FILE];
    match generator {
        Some(Generator::Hugo) | None => entries.push("build/"),
        Some(Generator::Jekyll) => entries.push("_build/"),
        Some(Generator::Zola) => {}
    }
    if opts.bucket.is_none() {
        entries.push("imglift-store/");
    }
    for entry in entries {
        match ignore_line(&gitignore, entry) {
            Ok(true) => {
                let _ = writeln!(out, "added {entry} to .gitignore");
            }
            Ok(false) => {}
            Err(e) => {
                return Err(ConfigError::Path {
                    path: gitignore,
                    message: format!("cannot add {entry}: {e}"),
                })
            }
        }
    }
    if generator == Some(Generator::Jekyll) {
        let _ = write!(out, "{}", jekyll_excludes(&dir, opts));
    }
    let _ = write!(out, "{}", next_steps(opts, generator));
    Ok(Exit::Success)
}

/// The lines Jekyll's `_config.yml` needs so that an in-place build does not publish imglift's
/// files (Jekyll copies every file not starting with `_` or `.`): those not listed yet.
fn jekyll_excludes(dir: &Path, opts: &InitOptions) -> String {
    let config = ["_config.yml", "_config.yaml"]
        .iter()
        .find_map(|n| std::fs::read_to_string(dir.join(n)).ok())
        .unwrap_or_default();
    let mut names = vec!["imglift.yaml", "imglift.lock"];
    if opts.bucket.is_none() {
        names.push("imglift-store");
    }
    let missing: Vec<&str> = names.into_iter().filter(|n| !config.contains(n)).collect();
    if missing.is_empty() {
        return String::new();
    }
    let lines: String = missing.iter().map(|n| format!("  - {n}\n")).collect();
    format!(
        "\nJekyll publishes every file of the site: add these under `exclude:` in _config.yml \
         (create the key if it is not there):\n{lines}"
    )
}

/// Add `entry` to an existing `.gitignore` unless it is there; whether it was added.
fn ignore_line(path: &Path, entry: &str) -> std::io::Result<bool> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let bare = entry.trim_end_matches('/');
    let listed = text.lines().any(|l| {
        let l = l.trim().trim_start_matches('/').trim_end_matches('/');
        l == bare || (entry == CACHE_FILE && l == "*.imglift-cache")
    });
    if listed {
        return Ok(false);
    }
    let mut new = text;
    if !new.is_empty() && !new.ends_with('\n') {
        new.push('\n');
    }
    new.push_str(entry);
    new.push('\n');
    crate::fs::write_atomic(path, new.as_bytes())?;
    Ok(true)
}

/// What is left to do by hand, following the R2 + custom domain setup.
fn next_steps(opts: &InitOptions, generator: Option<Generator>) -> String {
    let bucket = opts.bucket.as_deref().unwrap_or("blog-images");
    let domain = opts
        .public_url
        .as_deref()
        .map(|u| u.split("://").nth(1).unwrap_or(u).trim_end_matches('/'))
        .unwrap_or("img.example.com");
    let mut s = String::from("\nNext steps:\n");
    let mut n = 0;
    let mut step = |text: String| {
        n += 1;
        s.push_str(&format!("  {n}. {text}\n"));
    };
    if opts.bucket.is_none() {
        local_folder_steps(opts, generator, &mut step);
        return s;
    }
    step(format!(
        "Cloudflare dashboard → R2 → Create bucket `{bucket}`{}.",
        if opts.bucket.is_some() {
            ""
        } else {
            " (then put it in target.s3.bucket)"
        }
    ));
    step(format!(
        "Open the bucket → Settings → Add custom domain `{domain}`; Cloudflare adds the DNS record.{}",
        if opts.public_url.is_some() { "" } else { " Set public_url to https://<that domain>." }
    ));
    step(
        "R2 → Manage API Tokens → Create token: permission Object Read & Write, scope \
         \"Apply to specific bucket only\" (this bucket). Keep the Access Key ID and Secret Access Key."
            .into(),
    );
    if opts.bucket.is_some() && opts.account_id.is_none() && opts.endpoint.is_none() {
        step("Fill in target.s3.account_id (the Account ID shown on the R2 page).".into());
    }
    step(
        "Export the two keys (never write them in imglift.yaml; in CI use secrets):\n     \
         export IMGLIFT_ACCESS_KEY_ID=...\n     export IMGLIFT_SECRET_ACCESS_KEY=..."
            .into(),
    );
    step("Check the plan, then lift for real and open every link:\n     imglift sync --dry-run\n     imglift sync\n     imglift verify".into());
    let build = build_recipe(generator);
    step(format!(
        "Commit imglift.yaml and imglift.lock. To keep the pages local and lift at build time instead:\n     {build}"
    ));
    s
}

/// The README's build recipe for the generator.
fn build_recipe(generator: Option<Generator>) -> &'static str {
    match generator {
        Some(Generator::Hugo) => "imglift sync --out build && hugo --contentDir build/content",
        Some(Generator::Zola) => "imglift sync && zola build   (in CI, on the fresh checkout)",
        Some(Generator::Jekyll) => "imglift sync --out _build && jekyll build --source _build",
        None => "imglift sync --out build   (then build the site from build/)",
    }
}

/// The steps for the local folder store: no account, no keys, nothing of R2.
fn local_folder_steps(
    opts: &InitOptions,
    generator: Option<Generator>,
    step: &mut dyn FnMut(String),
) {
    step(format!(
        "The store is the local folder imglift-store/: imglift copies each image there. Publish \
         that folder at public_url{} (any static host), or re-run `imglift init --bucket NAME \
         --account-id ID --force` for Cloudflare R2.",
        match &opts.public_url {
            Some(u) => format!(" ({u})"),
            None => String::new(),
        }
    ));
    if opts.public_url.is_none() {
        step("Set public_url to the address that will serve imglift-store/.".into());
    }
    step(
        "Check the plan, then lift for real:\n     imglift sync --dry-run\n     imglift sync"
            .into(),
    );
    let build = build_recipe(generator);
    step(format!(
        "Commit imglift.yaml and imglift.lock. To keep the pages local and lift at build time instead:\n     {build}"
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    type Files<'a> = &'a [(&'a str, &'a str)];

    #[test]
    fn detects_each_generator_from_its_files() {
        let cases: [(Files, Option<Generator>); 6] = [
            (&[("hugo.toml", "baseURL = 'x'\n")], Some(Generator::Hugo)),
            (
                &[("config.toml", "baseURL = \"https://a/\"\n")],
                Some(Generator::Hugo),
            ),
            (
                &[("config.toml", "base_url = \"https://a\"\n")],
                Some(Generator::Zola),
            ),
            (&[("_config.yml", "title: x\n")], Some(Generator::Jekyll)),
            (
                &[("config.yaml", "baseURL: https://a/\n")],
                Some(Generator::Hugo),
            ),
            (&[("README.md", "# hi\n")], None),
        ];
        for (files, want) in cases {
            let dir = tempfile::tempdir().unwrap();
            for (name, text) in files {
                std::fs::write(dir.path().join(name), text).unwrap();
            }
            assert_eq!(detect(dir.path()).map(|d| d.0), want, "{files:?}");
        }
    }

    #[test]
    fn every_rendered_config_is_accepted_by_the_loader() {
        let full = InitOptions {
            bucket: Some("blog-images".into()),
            account_id: Some("0123456789abcdef0123456789abcdef".into()),
            public_url: Some("https://img.example.com/".into()),
            ..InitOptions::default()
        };
        for g in [
            None,
            Some(Generator::Hugo),
            Some(Generator::Zola),
            Some(Generator::Jekyll),
        ] {
            for opts in [
                full.clone(),
                InitOptions {
                    bucket: None,
                    ..full.clone()
                },
            ] {
                let text = render(&opts, g, None);
                let path = Path::new("imglift.yaml");
                let raw =
                    crate::config::parse(&text, path).unwrap_or_else(|e| panic!("{e}\n{text}"));
                let dir = tempfile::tempdir().unwrap();
                let file = dir.path().join("imglift.yaml");
                crate::config::Config::resolve(raw, Some(&file), &Default::default(), &|_| None)
                    .unwrap_or_else(|e| panic!("{e}\n{text}"));
            }
        }
    }
}
