//! Real-client tests: the redis-py suites in `tests/py/` run against Rill.
//!
//! Each file in [`ENABLED_PY`] runs as `python3 -m pytest -q tests/py/<file>` against a
//! fresh Rill whose port is in `RILL_PORT`. The suites are written against redis-server
//! 7.0 (`RILL_PORT=<redis port> python3 -m pytest tests/py` checks them there); a file is
//! enabled once its command family is merged. `RILL_PY=all` (or `RILL_PY=test_sets.py,...`)
//! runs other files against Rill and reports without failing.
//!
//! Skipped, with a message, only when `python3` itself is missing; a missing `redis` or
//! `pytest` module is a failure (scripts/test.sh installs both).

use crate::common::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// redis-py suites (files in tests/py/) that must pass against Rill: all but
/// `test_persistence.py` (the persistence issue), which `RILL_PY=all` still reports on.
const ENABLED_PY: &[&str] = &[
    "test_blocking.py",
    "test_config.py",
    "test_connection.py",
    "test_hashes.py",
    "test_keys.py",
    "test_lists.py",
    "test_persistence.py",
    "test_pubsub.py",
    "test_server.py",
    "test_sets.py",
    "test_streams.py",
    "test_strings.py",
    "test_transactions.py",
    "test_zsets.py",
];

/// Longest a single pytest run may take.
const PYTEST_TIMEOUT: Duration = Duration::from_secs(300);

fn py_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py")
}

fn all_py() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(py_dir())
        .expect("tests/py/")
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            (name.starts_with("test_") && name.ends_with(".py")).then_some(name)
        })
        .collect();
    v.sort();
    v
}

fn have_python() -> bool {
    Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Runs a command with a deadline; returns (success, stdout + stderr).
fn run_with_timeout(cmd: &mut Command, timeout: Duration) -> (bool, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let out = drain(Box::new(child.stdout.take().expect("stdout")));
    let err = drain(Box::new(child.stderr.take().expect("stderr")));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait") {
            break Some(st);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let text = format!(
        "{}{}",
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default()
    );
    match status {
        Some(st) => (st.success(), text),
        None => (false, format!("{text}\n<killed after {timeout:?}>")),
    }
}

/// Runs one pytest file against a fresh Rill.
fn pytest_file(file: &str) -> (bool, String) {
    let server = TestServer::start_with(&["--save", "", "--appendonly", "no"]);
    run_with_timeout(
        Command::new("python3")
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
            .arg(py_dir().join(file))
            .current_dir(py_dir())
            .env("RILL_PORT", server.port().to_string())
            .env("PYTHONDONTWRITEBYTECODE", "1"),
        PYTEST_TIMEOUT,
    )
}

#[test]
fn redis_py_suites() {
    if !have_python() {
        eprintln!(
            "SKIPPED redis-py tests: python3 not found (scripts/test.sh installs the test deps)"
        );
        return;
    }
    let (ok, text) = run_with_timeout(
        Command::new("python3").args(["-c", "import redis, pytest; print(redis.__version__)"]),
        Duration::from_secs(60),
    );
    assert!(
        ok,
        "python3 lacks redis or pytest: python3 -m pip install 'redis>=5,<6' pytest \
         (scripts/test.sh does it)\n{text}"
    );
    assert!(
        text.trim()
            .split('.')
            .next()
            .and_then(|m| m.parse::<u32>().ok())
            >= Some(5),
        "redis-py >= 5 is needed for RESP3, found {text}"
    );
    let all = all_py();
    for f in ENABLED_PY {
        assert!(
            all.iter().any(|x| x == f),
            "ENABLED_PY names a missing file {f}"
        );
    }
    let (files, enforced): (Vec<String>, bool) = match std::env::var("RILL_PY") {
        Ok(s) if s == "all" => (all, false),
        Ok(s) if !s.trim().is_empty() => {
            (s.split(',').map(|x| x.trim().to_string()).collect(), false)
        }
        _ => (ENABLED_PY.iter().map(|s| s.to_string()).collect(), true),
    };
    let mut failed = Vec::new();
    for f in &files {
        let (ok, text) = pytest_file(f);
        println!("== {f}: {}\n{text}", if ok { "ok" } else { "FAILED" });
        if !ok {
            failed.push(f.clone());
        }
    }
    println!(
        "redis-py: {} passed, {} failed",
        files.len() - failed.len(),
        failed.len()
    );
    if enforced {
        assert!(failed.is_empty(), "redis-py suites failed: {failed:?}");
    }
}

/// The runner itself: a failing pytest file is reported as failed, with its output.
#[test]
fn pytest_failures_are_detected() {
    if !have_python() {
        eprintln!("SKIPPED: python3 not found");
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("prog.py");
    std::fs::write(&f, "import sys\nprint('boom')\nsys.exit(3)\n").unwrap();
    let (ok, text) = run_with_timeout(Command::new("python3").arg(&f), Duration::from_secs(60));
    assert!(!ok);
    assert!(text.contains("boom"), "{text}");
    std::fs::write(&f, "import time\ntime.sleep(60)\n").unwrap();
    let start = Instant::now();
    let (ok, text) = run_with_timeout(Command::new("python3").arg(&f), Duration::from_millis(300));
    assert!(!ok);
    assert!(text.contains("killed after"), "{text}");
    assert!(start.elapsed() < Duration::from_secs(30));
}
