//! Upload: send what the plan says to the target, with a bounded number in flight.
//!
//! This is one of the two parallel stages. A fatal target error (bad credentials, no bucket)
//! stops further requests at once; every other failure is recorded for its object and the rest
//! go on. Results come back in plan order, so reporting stays deterministic.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;

use crate::plan::{Action, Planned};
use crate::target::{Object, Probe, Target, TargetError};

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

pub fn run(
    target: &dyn Target,
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
        n => match target.list(n / 100 + 1) {
            Ok(listing) => listing,
            Err(TargetError::Fatal(e)) => {
                stop.store(true, Ordering::Relaxed);
                *fatal.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                None
            }
            // The listing is only a shortcut: without it, each object is probed.
            Err(TargetError::Failed(_)) => None,
        },
    };
    let one = |p: &Planned| -> Outcome {
        let outcome = match p.action {
            Action::Reuse => return Outcome::Reused,
            Action::Collided => return Outcome::Skipped,
            _ if stop.load(Ordering::Relaxed) => {
                let why = fatal.lock().map(|f| f.clone()).unwrap_or_default();
                Outcome::Failed(format!("not sent: {}", why.unwrap_or_default()))
            }
            _ => {
                let obj = Object {
                    key: &p.key,
                    path: &p.image.path,
                    size: p.image.size,
                    hash: &p.image.hash,
                    mime: &p.image.mime,
                    cache_control,
                };
                match send(target, &obj, &p.action, listing.as_ref()) {
                    Ok(o) => o,
                    Err(TargetError::Fatal(e)) => {
                        stop.store(true, Ordering::Relaxed);
                        if let Ok(mut f) = fatal.lock() {
                            f.get_or_insert_with(|| e.clone());
                        }
                        Outcome::Failed(e)
                    }
                    Err(TargetError::Failed(e)) => Outcome::Failed(e),
                }
            }
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
        if let Err(e) = target.flush() {
            for o in outcomes.iter_mut().filter(|o| sent(o)) {
                *o = Outcome::Failed(format!("not made durable: {e}"));
            }
        }
    }
    outcomes
}

fn send(
    target: &dyn Target,
    obj: &Object,
    action: &Action,
    listing: Option<&HashMap<String, u64>>,
) -> Result<Outcome, TargetError> {
    if let Action::Overwrite { .. } = action {
        target.put(obj)?;
        return Ok(Outcome::Overwritten);
    }
    let probe = match listing {
        Some(keys) if !keys.contains_key(obj.key) => Probe::Absent,
        _ => target.probe(obj)?,
    };
    match probe {
        Probe::Same => Ok(Outcome::Present),
        Probe::Absent => target.put(obj).map(|()| Outcome::Uploaded),
        Probe::Different => target.put(obj).map(|()| Outcome::Overwritten),
    }
}
