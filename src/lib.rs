//! imglift: find every local image a Markdown site references, lift it into an object store,
//! and rewrite only the URL bytes.
//!
//! The stages, each a module with a typed hand-off: scan → extract → resolve (`pages.rs` runs
//! these three over a site) → hash → plan → upload → rewrite → output → report. The commands in
//! `commands/` sequence them; `store/` is where objects go; `fs.rs` and `net.rs` hold the
//! filesystem and network helpers every stage may use. `main.rs` only parses the command line and
//! calls [`run`].

pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod extract;
pub mod fs;
pub mod hash;
pub mod hugo;
pub mod lock;
pub mod manifest;
pub mod net;
pub mod output;
pub mod pages;
pub mod plan;
pub mod progress;
pub mod prune;
pub mod report;
pub mod resolve;
pub mod rewrite;
pub mod scan;
pub mod sniff;
pub mod store;
pub mod upload;

use std::io::Write;
use std::path::Path;

use clap::CommandFactory;
use cli::{Cli, Command};
use commands::{check, init, repair, sync, verify};
use config::{Config, Overrides};
use error::{Error, Exit};

/// Run one command; print its result on `out` and its diagnostics on `err`.
pub fn run(cli: Cli, cwd: &Path, out: &mut dyn Write, err: &mut dyn Write) -> Result<Exit, Error> {
    let overrides = Overrides {
        config: cli.config.clone(),
        public_url: cli.public_url.clone(),
        concurrency: cli.concurrency,
    };
    let report = match cli.command {
        Command::Sync(args) => {
            let config = Config::load(cwd, &overrides)?;
            let opts = sync::SyncOptions {
                paths: args.paths,
                out: args.out,
                dry_run: args.dry_run,
                broken: cli::broken_flag(args.strict, args.lenient),
            };
            let connect = || store::from_config(&config, &|k| std::env::var(k).ok());
            // One run at a time writes a site's pages, store and manifest; a dry run writes
            // nothing and needs no lock.
            let _lock = match opts.dry_run {
                true => None,
                false => Some(lock::acquire(&config.manifest, &mut |m| {
                    let _ = writeln!(err, "imglift: {m}");
                })?),
            };
            let mut report = sync::sync(&config, cwd, &opts, &connect)?;
            report.show_diff = args.diff;
            (report, args.format)
        }
        Command::Check(args) => {
            let config = Config::load(cwd, &overrides)?;
            let broken = cli::broken_flag(args.strict, args.lenient);
            (
                check::check(&config, cwd, &args.paths, broken, args.skip_non_pages)?,
                args.format,
            )
        }
        Command::Verify(args) => {
            let config = Config::load(cwd, &overrides)?;
            let opts = verify::VerifyOptions {
                paths: args.paths,
                timeout: std::time::Duration::from_secs(args.timeout),
            };
            (
                verify_and_repair(&config, cwd, &opts, args.repair, err)?,
                args.format,
            )
        }
        Command::Init(args) => {
            let opts = init::InitOptions {
                file: overrides.config,
                bucket: args.bucket,
                account_id: args.account_id,
                endpoint: args.endpoint,
                public_url: overrides.public_url,
                generator: args.generator,
                force: args.force,
            };
            return Ok(init::init(cwd, &opts, out)?);
        }
        Command::Completions(args) => {
            clap_complete::generate(args.shell, &mut Cli::command(), "imglift", out);
            return Ok(Exit::Success);
        }
        Command::Man(args) => {
            man_page(args.command.as_deref(), out);
            return Ok(Exit::Success);
        }
    };
    let (report, format) = report;
    // A closed pipe (`imglift check | head`) is not an error worth reporting.
    let _ = report.print(format, out, err);
    Ok(report.exit())
}

/// `imglift verify`, and with `--repair` the objects put back and everything verified again.
fn verify_and_repair(
    config: &Config,
    cwd: &Path,
    opts: &verify::VerifyOptions,
    repair: bool,
    err: &mut dyn Write,
) -> Result<report::Report, Error> {
    let mut report = verify::verify(config, cwd, opts)?;
    if !repair {
        return Ok(report);
    }
    let connect = || store::from_config(config, &|k| std::env::var(k).ok());
    let _lock = lock::acquire(&config.manifest, &mut |m| {
        let _ = writeln!(err, "imglift: {m}");
    })?;
    let fixed = repair::repair(config, &report, &connect)?;
    // What was put back is verified again, with everything else.
    if !fixed.objects.is_empty() {
        report = verify::verify(config, cwd, opts)?;
    }
    if let Some(v) = report.verified.as_mut() {
        v.repaired = fixed.objects;
    }
    report.add(fixed.problems);
    Ok(report)
}

/// The man page of imglift, or of one command (`imglift-sync(1)`), in roff.
fn man_page(command: Option<&str>, out: &mut dyn Write) {
    let mut cli = Cli::command();
    // Built, so that each command's page lists the global flags too.
    cli.build();
    let page = match command {
        Some(name) => {
            let sub = cli
                .find_subcommand(name)
                .cloned()
                .unwrap_or_else(Cli::command);
            sub.display_name(format!("imglift-{name}"))
                .bin_name(format!("imglift {name}"))
                .version(env!("CARGO_PKG_VERSION"))
        }
        None => cli,
    };
    // A closed pipe (`imglift man | head`) is not an error worth reporting.
    let _ = clap_mangen::Man::new(page).render(out);
}
