use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = imglift::cli::Cli::parse();
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => {
            eprintln!("imglift: cannot read the current folder: {e}");
            return ExitCode::from(imglift::error::Exit::Usage.code());
        }
    };
    // stdout is ours for the whole run; stderr is shared with the progress bars, so it is only
    // ever locked for one write at a time (holding it here froze every run on a terminal).
    let (mut out, mut err) = (std::io::stdout().lock(), imglift::progress::Stderr);
    match imglift::run(cli, &cwd, &mut out, &mut err) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => {
            eprintln!("imglift: {e}");
            ExitCode::from(e.exit().code())
        }
    }
}
