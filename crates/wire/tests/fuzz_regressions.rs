//! Replays every input kept under `fuzz/regressions/dissect/` and
//! `fuzz/regressions/wire_views/` through the same entry points the fuzz
//! targets call, so a crash found once stays fixed.

use std::path::Path;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut n = 0;
    for e in entries {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "md") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        run(&data);
        n += 1;
    }
    n
}

#[test]
fn dissect_regressions() {
    let n = replay("dissect", sluice_wire::fuzzing::dissect_and_print);
    println!("replayed {n} dissect inputs");
}

#[test]
fn wire_views_regressions() {
    let n = replay("wire_views", sluice_wire::fuzzing::exercise_views);
    println!("replayed {n} wire_views inputs");
}

/// Short and degenerate inputs for every selector of both targets.
#[test]
fn edge_inputs() {
    for sel in 0..=255u8 {
        for len in 0..80 {
            let mut v = vec![sel];
            v.extend((0..len).map(|i| (i as u8).wrapping_mul(37) ^ sel));
            sluice_wire::fuzzing::dissect_and_print(&v);
            sluice_wire::fuzzing::exercise_views(&v);
            v[1..].fill(0xff);
            sluice_wire::fuzzing::dissect_and_print(&v);
            sluice_wire::fuzzing::exercise_views(&v);
            v[1..].fill(0);
            sluice_wire::fuzzing::dissect_and_print(&v);
            sluice_wire::fuzzing::exercise_views(&v);
        }
    }
}
