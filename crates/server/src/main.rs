//! ringkv-server: a Redis 7.0-compatible server on one io_uring event loop (the binary; the
//! server itself is the `server` library).
//!
//! Command line as redis-server's: `ringkv-server [/path/to/redis.conf] [--directive value
//! ...]`, plus `--help` and `--version`.

use clap::Parser;
use std::ffi::OsString;

#[global_allocator]
static GLOBAL: server::alloc::Counting = server::alloc::Counting;

/// The flags clap knows; everything else is passed through to the config loader verbatim,
/// so any redis.conf directive works as `--name value`.
#[derive(Parser, Debug)]
#[command(
    name = "ringkv-server",
    version,
    about = "A Redis 7.0-compatible in-memory store on one io_uring event loop",
    override_usage = "ringkv-server [/path/to/redis.conf] [options] [-]\n       ringkv-server --port 7777\n       ringkv-server /etc/redis/6379.conf --loglevel verbose"
)]
struct Cli {
    /// Optional config file, then any redis.conf directive as `--name value ...`.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CONFIG_AND_OPTIONS"
    )]
    rest: Vec<OsString>,
}

fn main() {
    let mut cli = Cli::parse();
    // Diagnostic switch, not a redis.conf directive: exercise the single-shot recv
    // fallback on kernels that have provided buffer rings.
    let before = cli.rest.len();
    cli.rest.retain(|a| a != "--no-buf-ring");
    let use_buf_ring = cli.rest.len() == before;
    let code = server::start::run(&cli.rest, use_buf_ring, || {
        use clap::CommandFactory;
        let _ = Cli::command().print_help();
    });
    std::process::exit(code);
}
