//! End-to-end tests with the real tools imglift works with: Hugo and Jekyll build the fixture
//! sites after `imglift sync --out`, the real `pre-commit` runs the hooks of
//! `.pre-commit-hooks.yaml`, `imglift verify` talks to an HTTP server on 127.0.0.1, and
//! `imglift init` writes a config that the loader accepts; actionlint checks the CI
//! workflow.
//!
//! A test whose tool is missing fails and says how to install it (`bash scripts/test.sh`
//! installs them all); none passes without checking anything.

mod support;

// The S3 server of the s3 tests (s3s over a folder), for the action's credential inputs.
#[path = "../s3/server.rs"]
mod s3server;

mod action;
mod gitlab;
mod hugo;
mod init;
mod jekyll;
mod mdbook;
mod precommit;
mod recovery;
mod shell;
mod verify;
mod workflow;
