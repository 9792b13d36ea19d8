//! Every file of tcpdump's test captures (in `../shared/corpus/tcpdump-tests`
//! beside the repository) through the reader: no panic, a time bound per
//! file, and the same frame count as capinfos for each file capinfos reads
//! without complaint.
//!
//! The corpus is part of CI; the test fails when it is missing, and it
//! needs capinfos (apt-get install tshark).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use sluice_pcap::{Reader, ReaderOptions, Record};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/tcpdump-tests")
}

/// What the reader made of a file.
struct Outcome {
    frames: u64,
    error: Option<String>,
    truncated: bool,
}

fn read(path: &Path, opts: ReaderOptions) -> Outcome {
    let mut r = Reader::open_with(path, opts).unwrap();
    let mut o = Outcome {
        frames: 0,
        error: None,
        truncated: false,
    };
    while let Some(rec) = r.next_record() {
        match rec {
            Ok(Record::Frame(f)) => {
                assert_eq!(f.caplen() as usize, f.data.len());
                o.frames += 1;
            }
            Ok(Record::Truncated(_)) => o.truncated = true,
            Ok(_) => {}
            Err(e) => {
                o.error = Some(e.to_string());
                break;
            }
        }
    }
    o
}

/// capinfos's packet count, when it reads the file without an error.
fn capinfos_count(path: &Path) -> Option<u64> {
    let out = Command::new("capinfos")
        .args(["-M", "-c", "-T", "-r"])
        .arg(path)
        .output()
        .unwrap_or_else(|e| {
            panic!("capinfos is needed for this test ({e}): apt-get install tshark")
        });
    if !out.status.success() || !out.stderr.is_empty() {
        return None;
    }
    let s = String::from_utf8_lossy(&out.stdout);
    s.trim().rsplit('\t').next()?.parse().ok()
}

#[test]
fn tcpdump_corpus() {
    let dir = corpus_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the capture corpus {} is missing: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(
        files.len() > 100,
        "the corpus has only {} files",
        files.len()
    );

    let (mut ok, mut refused, mut lenient_ok) = (0, 0, 0);
    let (mut compared, mut agree) = (0, 0);
    let mut disagreements = Vec::new();
    let mut refusals = Vec::new();
    for path in &files {
        let start = Instant::now();
        let strict = read(path, ReaderOptions::default());
        let lenient = read(path, ReaderOptions::lenient());
        let mapped = read(
            path,
            ReaderOptions {
                mmap: true,
                ..ReaderOptions::default()
            },
        );
        let took = start.elapsed();
        assert!(
            took < Duration::from_secs(20),
            "{} took {took:?}",
            path.display()
        );
        assert_eq!(
            mapped.frames,
            strict.frames,
            "{}: mapped and buffered reads differ",
            path.display()
        );
        assert!(lenient.frames >= strict.frames, "{}", path.display());
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        match &strict.error {
            None => ok += 1,
            Some(e) => {
                refused += 1;
                refusals.push(format!("{name}: {e}"));
            }
        }
        if lenient.error.is_none() {
            lenient_ok += 1;
        }
        if let Some(n) = capinfos_count(path) {
            compared += 1;
            if strict.error.is_none() && n == strict.frames {
                agree += 1;
            } else {
                disagreements.push(format!(
                    "{name}: capinfos {n}, sluice {} ({})",
                    strict.frames,
                    strict.error.as_deref().unwrap_or(if strict.truncated {
                        "truncated"
                    } else {
                        "ok"
                    })
                ));
            }
        }
    }
    println!(
        "corpus: {} files; strict: {ok} read, {refused} refused with an error; lenient: {lenient_ok} read to the end",
        files.len()
    );
    println!("capinfos reads {compared} cleanly; sluice agrees on the frame count of {agree}");
    for r in &refusals {
        println!("  refused {r}");
    }
    for d in &disagreements {
        println!("  differs {d}");
    }
    assert!(
        disagreements.is_empty(),
        "{} files where capinfos and sluice disagree",
        disagreements.len()
    );
}
