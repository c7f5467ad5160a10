//! `imglift verify --repair`: put back what the store lost.
//!
//! After a verify pass, every URL that answered but failed (404, a wrong type, other bytes) and
//! that the manifest knows is uploaded again from the source the manifest records, when that
//! file is still inside the root with the blake3 the manifest records. Anything else is said:
//! the source is gone, or it changed (then `imglift sync` uploads the new bytes under a new key).
//! URLs that got no answer at all (a host that cannot be reached) are not touched: the store may
//! be fine and `public_url` wrong.

use std::path::{Component, Path};

use crate::config::Config;
use crate::fs::rel;
use crate::manifest::Manifest;
use crate::plan;
use crate::report::{Diagnostic, ObjectLine, Report, Severity};
use crate::store::{Object, OpenError, Store};

/// What a repair did: objects put back, and what could not be.
#[derive(Debug, Default)]
pub struct Repaired {
    pub objects: Vec<ObjectLine>,
    pub problems: Vec<Diagnostic>,
}

/// Upload again each object of `verified` that answered wrongly, from its recorded source.
/// The store is opened only when there is something to send.
pub fn repair(
    config: &Config,
    verified: &Report,
    connect: &dyn Fn() -> Result<Box<dyn Store>, OpenError>,
) -> Result<Repaired, crate::error::Error> {
    let manifest = Manifest::load(&config.manifest)?;
    let manifest_rel = rel(&config.root, &config.manifest);
    let manifest_text = std::fs::read_to_string(&config.manifest).unwrap_or_default();
    let mut out = Repaired::default();
    let mut todo = Vec::new();
    let urls = verified.verified.as_ref().map_or(&[][..], |v| &v.urls[..]);
    for u in urls.iter().filter(|u| !u.ok && u.status.is_some()) {
        let Some(key) = &u.key else { continue };
        let Some(entry) = manifest.get(key) else {
            continue;
        };
        let cannot = |why: String| Diagnostic {
            file: manifest_rel.clone(),
            line: super::verify::manifest_line(&manifest_text, key),
            col: 1,
            severity: Severity::Error,
            kind: "cannot_repair",
            message: format!("cannot repair `{}`: {why}", u.url),
        };
        match source_for(config, entry) {
            Ok(path) => todo.push((key.clone(), entry.clone(), path, u.url.clone())),
            Err(why) => out.problems.push(cannot(why)),
        }
    }
    if todo.is_empty() {
        return Ok(out);
    }
    let store = connect().map_err(crate::error::Error::from)?;
    for (key, entry, path, url) in todo {
        let obj = Object {
            key: &key,
            path: &path,
            size: entry.size,
            hash: &entry.hash,
            mime: &entry.mime,
            cache_control: &config.cache_control,
            md5: None,
            body: None,
        };
        match store.put(&obj) {
            Ok(()) => out.objects.push(ObjectLine {
                url: plan::public_url(&config.public_url, &key),
                key,
                source: entry.source,
                size: entry.size,
                action: "repaired",
            }),
            Err(e) => out.problems.push(Diagnostic {
                file: manifest_rel.clone(),
                line: super::verify::manifest_line(&manifest_text, &key),
                col: 1,
                severity: Severity::Error,
                kind: "cannot_repair",
                message: format!(
                    "cannot repair `{url}`: upload to {} failed: {e}",
                    store.describe()
                ),
            }),
        }
    }
    if let Err(e) = store.flush() {
        out.problems.push(crate::report::file_error(
            &manifest_rel,
            "cannot_repair",
            format!("the repaired objects may not be durable: {e}"),
        ));
    }
    Ok(out)
}

/// The local source of a lost object, if it is still there with the bytes the manifest recorded;
/// otherwise why it cannot be put back.
fn source_for(
    config: &Config,
    entry: &crate::manifest::Entry,
) -> Result<std::path::PathBuf, String> {
    let inside = !entry.source.is_empty()
        && Path::new(&entry.source)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    let path = config.root.join(&entry.source);
    if !inside {
        return Err(format!(
            "its recorded source `{}` is not a path inside the site",
            entry.source
        ));
    }
    let bytes = match crate::fs::read_checked(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!(
                "its source {} is gone (restore it, e.g. from git, and run again)",
                entry.source
            ));
        }
        Err(e) => return Err(format!("cannot read {}: {e}", entry.source)),
    };
    if blake3::hash(&bytes).to_hex().as_str() != entry.hash || crate::hash::sniff(&bytes).is_none()
    {
        return Err(format!(
            "its source {} changed since it was uploaded (`imglift sync` uploads the new bytes)",
            entry.source
        ));
    }
    Ok(path)
}
