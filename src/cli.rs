//! The command line as clap reads it; `config.rs` turns it into a resolved `Config`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::report::Format;

/// What `imglift --help` and the man page add after the options.
const MORE: &str = "\
Configuration (imglift.yaml, found in this folder or a parent): root, content, static, include,
exclude, public_url, key, target (dir or s3: bucket, endpoint or account_id, jurisdiction,
region, acl, prefix), cache_control, concurrency, front_matter, manifest, max_size,
allow_svg_scripts, broken (warn|error), ignore, out_keep_lifted. Unknown keys are errors.

Environment: IMGLIFT_ACCESS_KEY_ID and IMGLIFT_SECRET_ACCESS_KEY (else AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) for an S3 store; IMGLIFT_PUBLIC_URL and
IMGLIFT_CONCURRENCY override the file; NO_COLOR turns off progress bars; GITHUB_ACTIONS=true adds
annotations.

Exit codes: 0 success (broken references were only warnings) · 1 check found work, or a
reference is refused or broken (check, or sync --strict), a page changed while sync ran, or
verify found a bad URL · 2 usage or configuration error, nothing done · 3 some uploads failed,
everything else done.

One page per command: imglift man sync, imglift man check, ...";

/// Lift every local image of a Markdown site into an object store and rewrite only the URLs.
#[derive(Debug, Parser)]
#[command(name = "imglift", version, about, long_about = None, after_long_help = MORE)]
pub struct Cli {
    /// The config file (default: imglift.yaml in this folder or a parent).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The public address serving the store (overrides `public_url` and IMGLIFT_PUBLIC_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub public_url: Option<String>,
    /// Requests in flight at once, for sync (uploads) and verify (overrides `concurrency` and
    /// IMGLIFT_CONCURRENCY).
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
    /// Open every public URL the manifest and the pages use: 200, the right bytes, an image type.
    Verify(VerifyArgs),
    /// Write an annotated imglift.yaml for this site and print the next steps.
    Init(InitArgs),
    /// Print a shell completion script (e.g. `imglift completions bash > ~/.local/share/bash-completion/completions/imglift`).
    Completions(CompletionsArgs),
    /// Print a man page (roff) on stdout (e.g. `imglift man > imglift.1`, `imglift man sync > imglift-sync.1`).
    Man(ManArgs),
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
    /// With --dry-run: print the full unified diff of every page instead of one line per page.
    #[arg(long, requires = "dry_run")]
    pub diff: bool,
    /// Broken references (images not found) are errors: exit 1 (the default of `check`).
    #[arg(long, conflicts_with = "lenient")]
    pub strict: bool,
    /// Broken references are warnings: exit 0 if nothing else is wrong (the default of `sync`).
    #[arg(long)]
    pub lenient: bool,
    /// `human`: lines for people; `json`: one JSON document on stdout (diagnostics stay on stderr).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Only these pages or folders.
    pub paths: Vec<PathBuf>,
    /// Broken references (images not found) are errors: exit 1 (the default of `check`).
    #[arg(long, conflicts_with = "lenient")]
    pub strict: bool,
    /// Broken references are warnings: exit 0 if nothing else is wrong (the default of `sync`).
    #[arg(long)]
    pub lenient: bool,
    /// A PATH that is not a page of the site (a README outside the content folders) is named in a
    /// warning instead of failing the check: for hooks that pass every staged Markdown file.
    #[arg(long)]
    pub skip_non_pages: bool,
    /// `human`: lines for people; `json`: one JSON document on stdout (diagnostics stay on stderr).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Only the references of these pages or folders (the manifest's objects are then skipped).
    pub paths: Vec<PathBuf>,
    /// Seconds to wait for one answer.
    #[arg(long, value_name = "SECS", default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,
    /// Upload again every object that answered 404, a wrong type or other bytes, from the source
    /// the manifest records (if it still has the recorded blake3), then verify again.
    #[arg(long)]
    pub repair: bool,
    /// `human`: lines for people; `json`: one JSON document on stdout (diagnostics stay on stderr).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// The site generators `imglift init` knows the folder layout of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Generator {
    Hugo,
    Zola,
    Jekyll,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The R2 / S3 bucket (without it the config uses a local folder target).
    #[arg(long, value_name = "NAME")]
    pub bucket: Option<String>,
    /// The Cloudflare account id; the R2 endpoint is derived from it.
    #[arg(long, value_name = "ID")]
    pub account_id: Option<String>,
    /// An S3 endpoint (for a store other than R2).
    #[arg(long, value_name = "URL", conflicts_with = "account_id")]
    pub endpoint: Option<String>,
    /// The site generator, for the content and static folders (default: detected).
    #[arg(long, value_enum)]
    pub generator: Option<Generator>,
    /// Overwrite an existing imglift.yaml.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `--strict` / `--lenient` as a choice (`None`: neither flag).
pub fn broken_flag(strict: bool, lenient: bool) -> Option<crate::config::Broken> {
    match (strict, lenient) {
        (true, _) => Some(crate::config::Broken::Error),
        (_, true) => Some(crate::config::Broken::Warn),
        _ => None,
    }
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// The command whose page to print (default: the page of imglift itself).
    #[arg(value_parser = ["sync", "check", "verify", "init", "completions", "man"])]
    pub command: Option<String>,
}
