//! `rill-server [path/to/redis.conf] [--directive value ...]`, like redis-server.

use rill_server::config::Config;

#[global_allocator]
static ALLOC: rill_server::alloc::Counting = rill_server::alloc::Counting;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // Started as redis-sentinel (a symlink, like Redis's): sentinel mode.
    let argv0 = std::env::args().next().unwrap_or_default();
    if argv0.ends_with("-sentinel") && !args.iter().any(|a| a == "--sentinel") {
        args.push("--sentinel".into());
    }
    if args.iter().any(|a| a == "-v" || a == "--version") {
        println!(
            "Rill server v={} (Redis 7.0.15 compatible)",
            env!("CARGO_PKG_VERSION")
        );
        return;
    }
    let config = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    init_logging(&config);
    // io-threads 1 (Redis's default): one worker thread, as redis-server has one event
    // loop. The multi-thread scheduler (not current_thread) because a script past
    // busy-reply-threshold hands the event loop to another thread (block_in_place) so
    // other clients get -BUSY and can SCRIPT KILL it; measured against current_thread,
    // -P 16 SET/GET/INCR were within run-to-run noise (BENCHMARKS.md).
    let io_threads = config.get_i64("io-threads").max(1) as usize;
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(io_threads);
    // Redis's main thread has the usual 8 MiB stack; script replies nest as deep as
    // Lua's stack allows (about 8,000 levels) and are converted recursively. Debug
    // builds' frames are several times larger.
    builder.thread_stack_size(if cfg!(debug_assertions) {
        32 << 20
    } else {
        8 << 20
    });
    let rt = builder.enable_all().build().expect("tokio runtime");
    if let Err(e) = rt.block_on(rill_server::run(config)) {
        eprintln!("{e}");
        std::process::exit(1);
    }
}

fn init_logging(config: &Config) {
    let level = match config.loglevel.as_str() {
        "debug" => tracing::Level::DEBUG,
        "verbose" => tracing::Level::INFO,
        "notice" => tracing::Level::INFO,
        _ => tracing::Level::WARN,
    };
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_target(false);
    if config.logfile.is_empty() {
        use std::io::IsTerminal;
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .init();
    } else {
        match std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&config.logfile)
        {
            Ok(f) => builder
                .with_ansi(false)
                .with_writer(std::sync::Mutex::new(f))
                .init(),
            Err(e) => {
                eprintln!("Can't open the log file: {e}");
                std::process::exit(1);
            }
        }
    }
}
