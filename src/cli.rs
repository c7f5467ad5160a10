//! The command line as clap reads it; `config.rs` turns it into a resolved `Config`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::Format;

/// Lift every local image of a Markdown site into an object store and rewrite only the URLs.
#[derive(Debug, Parser)]
#[command(name = "imglift", version, about, long_about = None)]
pub struct Cli {
    /// The config file (default: imglift.yaml in this folder or a parent).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The public address serving the store (overrides `public_url` and IMGLIFT_PUBLIC_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub public_url: Option<String>,
    /// Uploads in flight at once (overrides `concurrency` and IMGLIFT_CONCURRENCY).
    #[arg(short = 'j', long = "concurrency", global = true, value_name = "N")]
    pub concurrency: Option<usize>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Upload new or changed images and rewrite their references.
    Sync(SyncArgs),
    /// Offline gate: list local references not lifted yet and broken ones; exit 1 if any.
    Check(CheckArgs),
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Only these pages or folders (e.g. the staged files in a pre-commit hook).
    pub paths: Vec<PathBuf>,
    /// Write the content roots, rewritten, into DIR instead of changing pages in place.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Show the upload plan and a unified diff; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Only these pages or folders.
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}
