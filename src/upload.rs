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
use crate::plan::{Action, Plan, Planned};
use crate::progress::Progress;
use crate::report::{file_error, ObjectLine, Report};
use crate::store::{Object, OpenError, Probe, Store, StoreError};

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
) -> Result<Uploaded, OpenError> {
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
    let stop = AtomicBool::new(false);
    let fatal: Mutex<Option<String>> = Mutex::new(None);
    // Many new objects: one listing (a page holds 1,000 keys) is cheaper than a HEAD each.
    let to_probe = items.iter().filter(|p| p.action == Action::Upload).count();
    let listing = match to_probe {
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
    };
    let one = |p: &Planned| -> Outcome {
        let obj = Object {
            key: &p.key,
            path: &p.image.path,
            size: p.image.size,
            hash: &p.image.hash,
            mime: &p.image.mime,
            cache_control,
            md5: p.image.md5,
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
            _ => match send(store, &obj, &p.action, listing.as_ref()) {
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
    listing: Option<&HashMap<String, u64>>,
) -> Result<Outcome, StoreError> {
    if let Action::Overwrite { .. } = action {
        store.put(obj)?;
        return Ok(Outcome::Overwritten);
    }
    let probe = match listing {
        Some(keys) if !keys.contains_key(obj.key) => Probe::Absent,
        _ => store.probe(obj)?,
    };
    match probe {
        Probe::Same => Ok(Outcome::Present),
        Probe::Absent => store.put(obj).map(|()| Outcome::Uploaded),
        Probe::Different => store.put(obj).map(|()| Outcome::Overwritten),
    }
}
