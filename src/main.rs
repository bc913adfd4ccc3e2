//! The `giaouoc` command: a thin adapter over the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
