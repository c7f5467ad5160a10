//! Upload: send what the plan says to the store, with a bounded number in flight.
//!
//! This is one of the two parallel stages. A fatal store error (bad credentials, no bucket)
//! stops further requests at once; every other failure is recorded for its object and the rest
//! go on. Results come back in plan order, so reporting stays deterministic.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::config::{Config, TargetConfig};
use crate::hash::ImageFile;
use crate::manifest::Manifest;
use crate::plan::{Action, EarlyKeys, Plan, Planned};
use crate::progress::Progress;
use crate::report::{file_error, ObjectLine, Report};
use crate::store::{Listed, Object, OpenError, Probe, Store, StoreError};

/// What happened to one planned object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Sent and confirmed.
    Uploaded,
    /// Already in the store with the same bytes (found by a probe).
    Present,
    /// Known from the manifest: no request made.
    Reused,
    /// Sent over an object with other bytes under the same key.
    Overwritten,
    /// Not attempted (a key collision).
    Skipped,
    Failed(String),
}

impl Outcome {
    /// Whether the object is confirmed in the store, so its references may be rewritten.
    pub fn confirmed(&self) -> bool {
        matches!(
            self,
            Outcome::Uploaded | Outcome::Present | Outcome::Reused | Outcome::Overwritten
        )
    }
}

/// What the upload stage did: an outcome for each planned object, in plan order, and the store
/// it talked to (empty when no request was needed).
pub struct Uploaded {
    pub outcomes: Vec<Outcome>,
    pub store: String,
}

/// The upload stage of `sync`. The store is opened (and credentials needed) only when something
/// must be sent; a dry run, or a run whose images the manifest already knows, works without.
/// In a dry run each outcome is what would happen.
pub fn execute(
    plan: &Plan,
    config: &Config,
    dry_run: bool,
    connect: &dyn Fn() -> Result<Box<dyn Store>, OpenError>,
    early: Option<Early<'_>>,
) -> Result<Uploaded, OpenError> {
    if let Some(early) = early {
        let done = early.finish();
        let bar = Progress::new(plan.to_send().saturating_sub(done.sent.len()), "uploading");
        let outcomes = run_after(
            done.store.as_ref(),
            &plan.items,
            &config.cache_control,
            config.concurrency,
            &|| bar.inc(),
            Some(&done),
        );
        return Ok(Uploaded {
            outcomes,
            store: done.store.describe(),
        });
    }
    let to_send = plan.to_send();
    // A local folder tells cheaply whether what the manifest lists is still there: a deleted
    // store folder means uploading again, not pointing pages at nothing.
    let check_reused = matches!(config.target, TargetConfig::Dir(_));
    if dry_run || (to_send == 0 && !check_reused) {
        let outcomes = plan
            .items
            .iter()
            .map(|p| match p.action {
                Action::Collided => Outcome::Skipped,
                Action::Reuse => Outcome::Reused,
                _ => Outcome::Uploaded,
            })
            .collect();
        return Ok(Uploaded {
            outcomes,
            store: String::new(),
        });
    }
    let store = connect()?;
    let bar = Progress::new(to_send, "uploading");
    let outcomes = run(
        store.as_ref(),
        &plan.items,
        &config.cache_control,
        config.concurrency,
        &|| bar.inc(),
    );
    Ok(Uploaded {
        outcomes,
        store: store.describe(),
    })
}

/// One line per planned object in the report, the upload counts, and an error for each failed
/// upload.
pub fn report_outcomes(plan: &Plan, uploaded: &Uploaded, dry_run: bool, report: &mut Report) {
    for (item, outcome) in plan.items.iter().zip(&uploaded.outcomes) {
        let action = match outcome {
            Outcome::Uploaded if dry_run && matches!(item.action, Action::Overwrite { .. }) => {
                "overwrite"
            }
            Outcome::Uploaded => "upload",
            Outcome::Overwritten => "overwrite",
            Outcome::Present => "present",
            Outcome::Reused => "reuse",
            Outcome::Skipped => continue,
            Outcome::Failed(_) => "failed",
        };
        match outcome {
            Outcome::Uploaded | Outcome::Overwritten => {
                report.counts.uploaded += 1;
                report.counts.bytes_uploaded += item.image.size;
            }
            Outcome::Present | Outcome::Reused => report.counts.reused += 1,
            Outcome::Failed(why) => {
                report.counts.failed += 1;
                report.problems.push(file_error(
                    &item.image.rel,
                    "upload_failed",
                    format!(
                        "upload to {} as `{}` failed: {why}; its references stay local",
                        uploaded.store, item.key
                    ),
                ));
            }
            Outcome::Skipped => {}
        }
        report.objects.push(ObjectLine {
            key: item.key.clone(),
            source: item.image.rel.clone(),
            size: item.image.size,
            action,
            url: item.url.clone(),
        });
    }
}

/// Send the planned objects, `concurrency` at once; outcomes in plan order.
pub fn run(
    store: &dyn Store,
    items: &[Planned],
    cache_control: &str,
    concurrency: usize,
    on_done: &(dyn Fn() + Sync),
) -> Vec<Outcome> {
    run_after(store, items, cache_control, concurrency, on_done, None)
}

/// One listing of the store for `to_probe` new objects, when it is cheaper than a HEAD each (a
/// page holds 1,000 keys); a fatal error sets `stop` and `fatal`.
fn listing_for(
    store: &dyn Store,
    to_probe: usize,
    stop: &AtomicBool,
    fatal: &Mutex<Option<String>>,
) -> Option<HashMap<String, Listed>> {
    match to_probe {
        0..=15 => None,
        n => match store.list(n / 100 + 1) {
            Ok(listing) => listing,
            Err(StoreError::Fatal(e)) => {
                stop.store(true, Ordering::Relaxed);
                *fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                None
            }
            // The listing is only a shortcut: without it, each object is probed.
            Err(StoreError::Failed(_)) => None,
        },
    }
}

/// [`run`] for the objects that the hash stage did not already send (`early`).
fn run_after(
    store: &dyn Store,
    items: &[Planned],
    cache_control: &str,
    concurrency: usize,
    on_done: &(dyn Fn() + Sync),
    early: Option<&EarlyDone>,
) -> Vec<Outcome> {
    let stop = AtomicBool::new(false);
    let fatal: Mutex<Option<String>> = Mutex::new(None);
    let sent_early = |p: &Planned| -> Option<Outcome> {
        let (hash, outcome) = early?.sent.get(&p.key)?;
        (p.action == Action::Upload && *hash == p.image.hash).then(|| outcome.clone())
    };
    if let Some(e) = early.and_then(|done| done.fatal.as_ref()) {
        stop.store(true, Ordering::Relaxed);
        *fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.clone());
    }
    let listed;
    let listing = match early.and_then(|done| done.listing.as_ref()) {
        Some(listing) => Some(listing),
        None => {
            let to_probe = items
                .iter()
                .filter(|p| p.action == Action::Upload && sent_early(p).is_none())
                .count();
            listed = listing_for(store, to_probe, &stop, &fatal);
            listed.as_ref()
        }
    };
    let one = |p: &Planned| -> Outcome {
        if let Some(outcome) = sent_early(p) {
            return outcome;
        }
        let obj = Object {
            key: &p.key,
            path: &p.image.path,
            size: p.image.size,
            hash: &p.image.hash,
            mime: &p.image.mime,
            cache_control,
            md5: p.image.md5,
            body: None,
        };
        let outcome = match p.action {
            Action::Reuse if store.still_there(&obj) != Some(false) => return Outcome::Reused,
            Action::Reuse => match store.put(&obj) {
                Ok(()) => Outcome::Uploaded,
                Err(e) => Outcome::Failed(e.to_string()),
            },
            Action::Collided => return Outcome::Skipped,
            _ if stop.load(Ordering::Relaxed) => {
                let why = fatal.lock().map(|f| f.clone()).unwrap_or_default();
                Outcome::Failed(format!("not sent: {}", why.unwrap_or_default()))
            }
            _ => match send(store, &obj, &p.action, listing) {
                Ok(o) => o,
                Err(StoreError::Fatal(e)) => {
                    stop.store(true, Ordering::Relaxed);
                    if let Ok(mut f) = fatal.lock() {
                        f.get_or_insert_with(|| e.clone());
                    }
                    Outcome::Failed(e)
                }
                Err(StoreError::Failed(e)) => Outcome::Failed(e),
            },
        };
        on_done();
        outcome
    };
    let mut outcomes: Vec<Outcome> = match rayon::ThreadPoolBuilder::new()
        .num_threads(concurrency)
        .thread_name(|i| format!("imglift-upload-{i}"))
        .build()
    {
        Ok(pool) => pool.install(|| items.par_iter().map(one).collect()),
        Err(_) => items.iter().map(one).collect(),
    };
    let sent = |o: &Outcome| matches!(o, Outcome::Uploaded | Outcome::Overwritten);
    if outcomes.iter().any(sent) {
        if let Err(e) = store.flush() {
            for o in outcomes.iter_mut().filter(|o| sent(o)) {
                *o = Outcome::Failed(format!("not made durable: {e}"));
            }
        }
    }
    outcomes
}

fn send(
    store: &dyn Store,
    obj: &Object,
    action: &Action,
    listing: Option<&HashMap<String, Listed>>,
) -> Result<Outcome, StoreError> {
    if let Action::Overwrite { .. } = action {
        store.put(obj)?;
        return Ok(Outcome::Overwritten);
    }
    let probe = match listing.map(|keys| keys.get(obj.key)) {
        Some(None) => Probe::Absent,
        // The listing shows these bytes already (size and ETag = their MD5): no HEAD.
        Some(Some(listed)) if listed.proves(obj) => Probe::Same,
        _ => store.probe(obj)?,
    };
    match probe {
        Probe::Same => Ok(Outcome::Present),
        Probe::Absent => store.put(obj).map(|()| Outcome::Uploaded),
        Probe::Different => store.put(obj).map(|()| Outcome::Overwritten),
    }
}

/// Uploads that start during the hash stage. With a template that gives different bytes
/// different keys (16 or more hex digits of the hash), an image the manifest does not know is
/// certainly uploaded by the plan, under a key known as soon as it is hashed: its PUT goes out
/// at once, on the thread that read it, with the bytes just hashed (one read of each file, the
/// store busy while the rest is still being hashed). The upload stage later takes these
/// outcomes for the planned objects, and sends the rest as usual.
pub struct Early<'a> {
    store: Box<dyn Store>,
    pool: rayon::ThreadPool,
    keys: EarlyKeys<'a>,
    cache_control: &'a str,
    listing: Option<HashMap<String, Listed>>,
    /// Key → (blake3, outcome); `None` while its PUT is in flight.
    sent: Mutex<HashMap<String, Option<(String, Outcome)>>>,
    stop: AtomicBool,
    fatal: Mutex<Option<String>>,
}

/// What the early uploads did, for the upload stage.
struct EarlyDone {
    store: Box<dyn Store>,
    sent: HashMap<String, (String, Outcome)>,
    listing: Option<HashMap<String, Listed>>,
    fatal: Option<String>,
}

impl<'a> Early<'a> {
    /// Early uploads for a real run to an S3 store with a template that allows them, when the
    /// pages reference images the manifest has never seen; `None` otherwise, or when the store
    /// cannot be opened (the upload stage then reports why, if it needs the store at all). Lists
    /// the store once when many images are new, as the upload stage would.
    pub fn start(
        config: &'a Config,
        manifest: &'a Manifest,
        pages: &[crate::pages::Page],
        dry_run: bool,
        connect: &dyn Fn() -> Result<Box<dyn Store>, OpenError>,
    ) -> Option<Early<'a>> {
        if dry_run || !matches!(config.target, TargetConfig::S3(_)) {
            return None;
        }
        let keys = EarlyKeys::new(config, manifest)?;
        let new = crate::hash::referenced_files(pages, config)
            .iter()
            .filter(|(_, rel)| !keys.known_source(rel))
            .count();
        // Nothing new by the manifest: a run with (at most) a few changed images, which the
        // upload stage sends; no store opened for nothing.
        if new == 0 {
            return None;
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.concurrency)
            .thread_name(|i| format!("imglift-upload-{i}"))
            .build()
            .ok()?;
        let store = connect().ok()?;
        let stop = AtomicBool::new(false);
        let fatal = Mutex::new(None);
        let listing = listing_for(store.as_ref(), new, &stop, &fatal);
        Some(Early {
            store,
            pool,
            keys,
            cache_control: &config.cache_control,
            listing,
            sent: Mutex::new(HashMap::new()),
            stop,
            fatal,
        })
    }

    /// The threads that hash (and send) the files: as many as requests may be in flight.
    pub fn pool(&self) -> &rayon::ThreadPool {
        &self.pool
    }

    /// `image` was just read and hashed: send it now if the plan will certainly upload it.
    pub fn offer(&self, image: &ImageFile, bytes: bytes::Bytes) {
        // An SVG is checked for scripts after hashing; a fatal error leaves the rest to the
        // upload stage, which reports them.
        if image.mime == "image/svg+xml" || self.stop.load(Ordering::Relaxed) {
            return;
        }
        let Some(key) = self.keys.upload_key(image) else {
            return;
        };
        {
            let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
            if sent.contains_key(&key) {
                return;
            }
            sent.insert(key.clone(), None);
        }
        let obj = Object {
            key: &key,
            path: &image.path,
            size: image.size,
            hash: &image.hash,
            mime: &image.mime,
            cache_control: self.cache_control,
            md5: image.md5,
            body: Some(&bytes),
        };
        let outcome = match send(
            self.store.as_ref(),
            &obj,
            &Action::Upload,
            self.listing.as_ref(),
        ) {
            Ok(o) => o,
            Err(StoreError::Fatal(e)) => {
                self.stop.store(true, Ordering::Relaxed);
                if let Ok(mut f) = self.fatal.lock() {
                    f.get_or_insert_with(|| e.clone());
                }
                Outcome::Failed(e)
            }
            Err(StoreError::Failed(e)) => Outcome::Failed(e),
        };
        let mut sent = self.sent.lock().unwrap_or_else(|p| p.into_inner());
        sent.insert(key, Some((image.hash.clone(), outcome)));
    }

    fn finish(self) -> EarlyDone {
        let sent = self.sent.into_inner().unwrap_or_else(|p| p.into_inner());
        EarlyDone {
            store: self.store,
            sent: sent
                .into_iter()
                .filter_map(|(k, v)| Some((k, v?)))
                .collect(),
            listing: self.listing,
            fatal: self.fatal.into_inner().unwrap_or_else(|p| p.into_inner()),
        }
    }
}
