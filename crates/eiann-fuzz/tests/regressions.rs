//! Replays every saved input of `regressions/<reader>/` (inputs that once crashed, hung or allocated
//! too much): each must now be read or refused without a panic, quickly.

use std::time::Instant;

use eiann_fuzz::{regression_inputs, run_one, seeds, Reader};

#[test]
fn saved_regression_inputs_are_handled() {
    let scratch = std::env::temp_dir().join(format!("eiann-fuzz-regr-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let mut replayed = 0;
    for reader in Reader::ALL {
        for (path, bytes) in regression_inputs(reader) {
            let t = Instant::now();
            let outcome = run_one(reader, &bytes, &scratch);
            let secs = t.elapsed().as_secs_f64();
            eprintln!("{}: {outcome:?} in {secs:.3} s", path.display());
            assert!(secs < 10.0, "{} took {secs:.1} s", path.display());
            replayed += 1;
        }
    }
    eprintln!("{replayed} regression inputs replayed");
    std::fs::remove_dir_all(&scratch).ok();
}

#[test]
fn seeds_are_valid_inputs() {
    let scratch = std::env::temp_dir().join(format!("eiann-fuzz-seeds-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    for reader in [Reader::Config, Reader::Pickle, Reader::Npz] {
        let s = seeds(reader, &scratch);
        assert!(!s.is_empty());
        assert_eq!(
            run_one(reader, &s[0], &scratch),
            eiann_fuzz::Outcome::Accepted,
            "first seed of {}",
            reader.name()
        );
    }
    std::fs::remove_dir_all(&scratch).ok();
}
