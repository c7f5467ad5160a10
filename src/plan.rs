//! Plan: give each image its object key and public URL, and decide what the store needs.
//!
//! The key comes from the template (`{hash:16}/{fileName}.{extName}` by default). Against the
//! manifest: same key and hash → reuse with no request; same key, other hash (a template without
//! the hash) → overwrite, with a warning; unknown key → upload (the target may still find it
//! there already). Two different files that would land on one key in the same run are a
//! collision: neither is uploaded and both are named.

use std::collections::BTreeMap;
use std::path::PathBuf;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rustc_hash::FxHashMap as HashMap;
use unicode_normalization::UnicodeNormalization;

use crate::config::{Config, TargetConfig};
use crate::fs::rel;
use crate::hash::ImageFile;
use crate::manifest::Manifest;
use crate::report::{file_error, file_warning, Diagnostic};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Lit(String),
    Hash(Option<usize>),
    FileName,
    ExtName,
    Year,
    Month,
    Day,
    Path,
}

/// A parsed key template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTemplate {
    parts: Vec<Part>,
}

impl KeyTemplate {
    pub fn parse(text: &str) -> Result<KeyTemplate, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            if open > 0 {
                parts.push(Part::Lit(rest[..open].to_string()));
            }
            let close = rest[open..]
                .find('}')
                .ok_or_else(|| format!("`{text}`: unclosed `{{`"))?
                + open;
            let var = &rest[open + 1..close];
            parts.push(match var {
                "hash" => Part::Hash(None),
                "fileName" => Part::FileName,
                "extName" => Part::ExtName,
                "year" => Part::Year,
                "month" => Part::Month,
                "day" => Part::Day,
                "path" => Part::Path,
                _ => match var.strip_prefix("hash:").map(str::parse::<usize>) {
                    Some(Ok(n)) if (1..=64).contains(&n) => Part::Hash(Some(n)),
                    _ => {
                        return Err(format!(
                            "`{text}`: unknown variable `{{{var}}}` (known: {{hash}}, {{hash:N}} with N \
                             from 1 to 64, {{fileName}}, {{extName}}, {{year}}, {{month}}, {{day}}, {{path}})"
                        ))
                    }
                },
            });
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Lit(rest.to_string()));
        }
        if !parts
            .iter()
            .any(|p| matches!(p, Part::Hash(_) | Part::FileName))
        {
            return Err(format!(
                "`{text}` has neither {{hash}} nor {{fileName}}: every image would share one key"
            ));
        }
        Ok(KeyTemplate { parts })
    }

    /// Whether the key changes whenever the content does.
    pub fn content_addressed(&self) -> bool {
        self.parts.iter().any(|p| matches!(p, Part::Hash(_)))
    }

    /// Whether two files with different bytes always get different keys: the key holds at
    /// least 16 hex digits (64 bits) of the hash.
    pub fn distinct_by_content(&self) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Hash(None)) || matches!(p, Part::Hash(Some(n)) if *n >= 16))
    }

    /// The key for an image first uploaded on `date` (`YYYY-MM-DD`).
    pub fn render(&self, image: &ImageFile, date: &str) -> Result<String, String> {
        let name = image.rel.rsplit('/').next().unwrap_or(&image.rel);
        let name: String = name.nfc().collect();
        let (stem, ext) = match name.rfind('.') {
            Some(dot) if dot > 0 => (&name[..dot], &name[dot + 1..]),
            _ => (name.as_str(), ""),
        };
        let folder = image.rel.rsplit_once('/').map_or("", |(dir, _)| dir);
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(s) => out.push_str(s),
                Part::Hash(None) => out.push_str(&image.hash),
                Part::Hash(Some(n)) => out.push_str(&image.hash[..*n]),
                Part::FileName => out.push_str(stem),
                Part::ExtName if ext.is_empty() => {
                    if out.ends_with('.') {
                        out.pop();
                    }
                }
                Part::ExtName => out.push_str(ext),
                Part::Year | Part::Month | Part::Day => {
                    let range = match part {
                        Part::Year => 0..4,
                        Part::Month => 5..7,
                        _ => 8..10,
                    };
                    match date
                        .get(range)
                        .filter(|d| d.bytes().all(|b| b.is_ascii_digit()))
                    {
                        Some(d) => out.push_str(d),
                        None => return Err(format!("upload date `{date}` is not YYYY-MM-DD")),
                    }
                }
                Part::Path => out.extend(folder.nfc()),
            }
        }
        let segments: Vec<&str> = out.split('/').filter(|s| !s.is_empty()).collect();
        if segments.iter().any(|s| *s == "." || *s == "..") || segments.is_empty() {
            return Err(format!("key `{out}` is not a valid object key"));
        }
        Ok(segments.join("/"))
    }
}

/// Characters kept as they are in a URL path; everything else is percent-encoded, which also
/// makes the URL safe in every context we splice it into (Markdown, HTML, YAML, TOML, srcset).
const PATH_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// The public URL of an object key.
pub fn public_url(base: &str, key: &str) -> String {
    format!("{base}/{}", utf8_percent_encode(key, PATH_SAFE))
}

/// The URL for one reference: the object's URL, plus the reference's `#fragment` if it had one
/// (an SVG sprite's `icons.svg#home` must keep pointing at `#home`). A `?query` is dropped: it
/// addressed the local file, and the new URL is immutable.
pub fn reference_url(object_url: &str, dest: &str) -> String {
    match dest.split_once('#') {
        Some((_, fragment)) if !fragment.is_empty() => {
            format!("{object_url}#{}", utf8_percent_encode(fragment, PATH_SAFE))
        }
        _ => object_url.to_string(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Not in the manifest: put it (the target may find it there already).
    Upload,
    /// In the manifest with the same bytes: nothing to send.
    Reuse,
    /// In the manifest under this key with other bytes: overwrite, and warn about CDN caches.
    Overwrite { old_hash: String },
    /// Another file of this run wants the same key: not uploaded, references stay local.
    Collided,
}

#[derive(Debug, Clone)]
pub struct Planned {
    pub image: ImageFile,
    pub key: String,
    pub url: String,
    pub date: String,
    pub action: Action,
}

#[derive(Debug, Clone)]
pub struct Collision {
    pub key: String,
    pub first: String,
    pub second: String,
}

#[derive(Debug, Default)]
pub struct Plan {
    pub items: Vec<Planned>,
    /// Local file → index into `items`.
    pub by_path: HashMap<PathBuf, usize>,
    pub collisions: Vec<Collision>,
    /// Files whose key could not be made, with the reason.
    pub invalid: Vec<(PathBuf, String)>,
}

pub struct PlanInput<'a> {
    pub template: &'a KeyTemplate,
    pub manifest: &'a Manifest,
    pub public_url: &'a str,
    /// Folder inside the bucket that every key starts with (may be empty).
    pub prefix: &'a str,
    pub today: &'a str,
}

/// The plan stage of `sync`: keys and URLs for the run's images, against the manifest, dated
/// today for images it has never seen.
pub fn plan_run(images: Vec<ImageFile>, config: &Config, manifest: &Manifest) -> Plan {
    let today = today();
    plan(images, &input_for(config, manifest, &today))
}

/// Today's date, `YYYY-MM-DD` (UTC): the date an image never seen before is filed under.
pub fn today() -> String {
    humantime::format_rfc3339(std::time::SystemTime::now()).to_string()[..10].to_string()
}

/// What planning needs from the configuration and the manifest.
pub fn input_for<'a>(config: &'a Config, manifest: &'a Manifest, today: &'a str) -> PlanInput<'a> {
    let prefix = match &config.target {
        TargetConfig::S3(s3) => s3.prefix.as_str(),
        TargetConfig::Dir(_) => "",
    };
    PlanInput {
        template: &config.key,
        manifest,
        public_url: &config.public_url,
        prefix,
        today,
    }
}

/// The longest object key R2 and S3 accept, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

impl Plan {
    /// An error at each reference (`page:line:col`) to an image whose key cannot be made.
    pub fn refused_references(&self, pages: &[crate::pages::Page]) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for page in pages {
            for (r, resolved) in &page.refs {
                let crate::resolve::Resolved::Local(path) = resolved else {
                    continue;
                };
                if let Some((_, why)) = self.invalid.iter().find(|(p, _)| p == path) {
                    out.push(page.diag(
                        r.span.start,
                        crate::report::Severity::Error,
                        "refused",
                        format!("image `{}` refused: {why}", r.dest),
                    ));
                }
            }
        }
        out
    }

    /// Errors for key collisions and keys that cannot be made; a warning for each object that
    /// is overwritten in place.
    pub fn diagnostics(&self, config: &Config) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for c in &self.collisions {
            out.push(file_error(
                &c.second,
                "collision",
                format!(
                    "`{}` and `{}` are different files that map to the same key `{}`; neither is uploaded (add {{hash}} or {{path}} to `key`)",
                    c.first, c.second, c.key
                ),
            ));
        }
        for (path, why) in &self.invalid {
            out.push(file_error(&rel(&config.root, path), "refused", why.clone()));
        }
        for item in &self.items {
            if let Action::Overwrite { old_hash } = &item.action {
                out.push(file_warning(
                    &item.image.rel,
                    "overwrite",
                    format!(
                        "`{}` changed (was {}…): the object is overwritten in place and CDN caches may serve the old picture; a key with {{hash}} avoids this",
                        item.key,
                        &old_hash[..12]
                    ),
                ));
            }
        }
        out
    }

    /// How many objects must be sent to the store.
    pub fn to_send(&self) -> usize {
        self.items
            .iter()
            .filter(|p| matches!(p.action, Action::Upload | Action::Overwrite { .. }))
            .count()
    }
}

pub fn plan(images: Vec<ImageFile>, input: &PlanInput) -> Plan {
    let mut plan = Plan::default();
    let mut by_key: BTreeMap<String, usize> = BTreeMap::new();
    let mut collided: Vec<String> = Vec::new();
    let dates = input.manifest.dates_by_source();
    for image in images {
        let (key, date) = match key_of(&image, input, &dates) {
            Ok(key_date) => key_date,
            Err(e) => {
                plan.invalid.push((image.path, e));
                continue;
            }
        };
        if let Some(&i) = by_key.get(&key) {
            if plan.items[i].image.hash == image.hash {
                plan.by_path.insert(image.path, i);
            } else {
                plan.collisions.push(Collision {
                    key: key.clone(),
                    first: plan.items[i].image.rel.clone(),
                    second: image.rel.clone(),
                });
                collided.push(key);
            }
            continue;
        }
        let action = match input.manifest.get(&key) {
            Some(e) if e.hash == image.hash => Action::Reuse,
            Some(e) => Action::Overwrite {
                old_hash: e.hash.clone(),
            },
            None => Action::Upload,
        };
        let url = public_url(input.public_url, &key);
        by_key.insert(key.clone(), plan.items.len());
        plan.by_path.insert(image.path.clone(), plan.items.len());
        plan.items.push(Planned {
            image,
            key,
            url,
            date,
            action,
        });
    }
    // A collided key is not uploaded at all: the first file loses its object too, so that no
    // page silently shows the other picture.
    if !collided.is_empty() {
        let dropped: Vec<usize> = plan
            .items
            .iter()
            .enumerate()
            .filter(|(_, p)| collided.contains(&p.key))
            .map(|(i, _)| i)
            .collect();
        plan.by_path.retain(|_, i| !dropped.contains(i));
        for i in dropped {
            plan.items[i].action = Action::Collided;
        }
    }
    plan
}

/// The object key of `image` and the date it is filed under (the manifest's date for its source,
/// else today), or why it cannot have one.
fn key_of(
    image: &ImageFile,
    input: &PlanInput,
    dates: &std::collections::HashMap<&str, &str>,
) -> Result<(String, String), String> {
    let date = dates
        .get(image.rel.as_str())
        .copied()
        .unwrap_or(input.today)
        .to_string();
    let key = match input.template.render(image, &date)? {
        k if input.prefix.is_empty() => k,
        k => format!("{}/{k}", input.prefix),
    };
    if key.len() > MAX_KEY_BYTES {
        return Err(format!(
            "its key is {} bytes, more than the {MAX_KEY_BYTES} that R2 and S3 accept; not \
             uploaded (shorten the file name or the folders in `key`)",
            key.len()
        ));
    }
    Ok((key, date))
}

/// Decides, one image at a time while the others are still being hashed, which images the plan
/// will certainly upload, so that their PUTs can start before the whole plan is known.
pub struct EarlyKeys<'a> {
    config: &'a Config,
    manifest: &'a Manifest,
    today: String,
    dates: std::collections::HashMap<&'a str, &'a str>,
}

impl<'a> EarlyKeys<'a> {
    /// `None` when the template lets two different files share a key (fewer than 16 hex digits
    /// of the hash in it): only the whole plan can tell a collision there.
    pub fn new(config: &'a Config, manifest: &'a Manifest) -> Option<EarlyKeys<'a>> {
        if !config.key.distinct_by_content() {
            return None;
        }
        Some(EarlyKeys {
            config,
            manifest,
            today: today(),
            dates: manifest.dates_by_source(),
        })
    }

    /// The key `plan` gives `image` with [`Action::Upload`], or `None` when its action may be
    /// another (the manifest knows the key) or it has no valid key.
    pub fn upload_key(&self, image: &ImageFile) -> Option<String> {
        let input = input_for(self.config, self.manifest, &self.today);
        let (key, _) = key_of(image, &input, &self.dates).ok()?;
        self.manifest.get(&key).is_none().then_some(key)
    }

    /// Whether the manifest names `rel` as the source of an object.
    pub fn known_source(&self, rel: &str) -> bool {
        self.dates.contains_key(rel)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(rel: &str, hash_char: char) -> ImageFile {
        ImageFile {
            path: PathBuf::from("/site").join(rel),
            rel: rel.into(),
            size: 1,
            hash: hash_char.to_string().repeat(64),
            mime: "image/png".into(),
            md5: None,
        }
    }

    #[test]
    fn only_a_key_with_16_or_more_hex_digits_of_the_hash_keeps_different_bytes_apart() {
        for (template, distinct) in [
            ("{hash:16}/{fileName}.{extName}", true),
            ("{hash}.{extName}", true),
            ("{path}/{hash:64}", true),
            ("{hash:15}/{fileName}.{extName}", false),
            ("{year}/{fileName}.{extName}", false),
        ] {
            let t = KeyTemplate::parse(template).unwrap();
            assert_eq!(t.distinct_by_content(), distinct, "{template}");
        }
    }

    #[test]
    fn default_template_and_no_extension() {
        let t = KeyTemplate::parse(crate::config::DEFAULT_KEY).unwrap();
        assert_eq!(
            t.render(&image("content/a/my pic.png", 'a'), "2026-11-29")
                .unwrap(),
            format!("{}/my pic.png", "a".repeat(16))
        );
        assert_eq!(
            t.render(&image("static/LICENSE", 'b'), "2026-11-29")
                .unwrap(),
            format!("{}/LICENSE", "b".repeat(16))
        );
    }

    #[test]
    fn picgo_template_uses_the_recorded_date() {
        let t = KeyTemplate::parse("{year}/{month}/{fileName}.{extName}").unwrap();
        assert_eq!(
            t.render(&image("x/cat.jpg", 'c'), "2024-03-07").unwrap(),
            "2024/03/cat.jpg"
        );
        let p = KeyTemplate::parse("{path}/{hash:8}.{extName}").unwrap();
        assert_eq!(
            p.render(&image("cat.jpg", 'c'), "2024-03-07").unwrap(),
            "cccccccc.jpg"
        );
    }

    #[test]
    fn unknown_variable_is_named() {
        let err = KeyTemplate::parse("{hash}/{filename}").unwrap_err();
        assert!(err.contains("{filename}"), "{err}");
    }

    #[test]
    fn url_is_percent_encoded() {
        assert_eq!(
            public_url("https://img.example.com", "ab/my pic (1)é.png"),
            "https://img.example.com/ab/my%20pic%20%281%29%C3%A9.png"
        );
    }

    #[test]
    fn two_files_on_one_key_are_a_collision_and_neither_is_planned() {
        let t = KeyTemplate::parse("{fileName}.{extName}").unwrap();
        let m = Manifest::default();
        let input = PlanInput {
            template: &t,
            manifest: &m,
            public_url: "https://i.example",
            prefix: "",
            today: "2026-11-29",
        };
        let p = plan(vec![image("a/x.png", 'a'), image("b/x.png", 'b')], &input);
        assert_eq!(p.collisions.len(), 1);
        assert_eq!(
            (
                p.collisions[0].first.as_str(),
                p.collisions[0].second.as_str()
            ),
            ("a/x.png", "b/x.png")
        );
        assert!(p.by_path.is_empty());
    }
}
