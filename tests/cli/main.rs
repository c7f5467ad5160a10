//! End-to-end tests of the `imglift` command line: each module copies a fixture site (or builds
//! a small one) into a temporary folder, runs the built binary there, and checks what a user
//! would check — exit code, messages, the pages, the store folder and the manifest.

mod sites;
#[path = "../support/mod.rs"]
mod support;

mod attack_escape;
mod attack_secrets;
mod broken;
mod check;
mod code;
mod config;
mod dry_run;
mod format;
mod front_matter;
mod hostile;
mod hugo_paths;
mod keys;
mod kill;
mod kramdown;
mod liquid;
mod lost;
mod manifest;
mod out_dir;
mod real_blogs;
mod svg;
mod sync;
#[cfg(unix)]
mod terminal;
mod upload;
