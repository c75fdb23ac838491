//! Rubrics reaching the reports: points in every format, a check worth 0 reported but not
//! scored, Gradescope visibility per check and by default, and a rubric naming a check the
//! lab lacks or a visibility Gradescope lacks refused with exit 2 and one line that lists
//! what there is.

mod common;
mod reports;

use common::{lab_checks, run};
use reports::*;
use rstest::rstest;
use serde_json::Value;

/// A rubric's points reach every format: a check given more points, and one set to 0 that
/// is still reported (max 0) but not scored.
#[test]
fn rubric_points_reach_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let rubric = write_rubric(
        dir.path(),
        "lab = \"serv_simple\"\n[points]\nprints_client = 5\nexits_cleanly = 0\n",
    );
    let grade = |format: &str| -> Value {
        serde_json::from_str(&noisy_report(format, &["--rubric", &rubric])).unwrap()
    };
    let json = grade("json");
    assert_eq!(
        (&json["score"], &json["max_score"]),
        (&7.into(), &12.into())
    );
    let exits = named(&json["checks"], "exits_cleanly");
    assert_eq!(
        (&exits["name"], &exits["max"], &exits["passed"]),
        (&"exits_cleanly".into(), &0.into(), &false.into())
    );

    let gradescope = grade("gradescope");
    assert_eq!(gradescope["score"], 7);
    let client = named(&gradescope["tests"], "prints_client");
    assert_eq!(
        (&client["score"], &client["max_score"]),
        (&5.into(), &5.into())
    );
    let exits = named(&gradescope["tests"], "exits_cleanly");
    assert_eq!(
        (&exits["max_score"], &exits["status"]),
        (&0.into(), &"failed".into())
    );
    assert!(
        exits["output"]
            .as_str()
            .unwrap()
            .contains("reported, not scored")
    );

    // A test per point; none for the check worth nothing.
    let classroom = grade("classroom");
    assert_eq!(classroom["max_score"], 12);
    let tests = classroom["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 12, "{classroom:#}");
    assert!(
        tests
            .iter()
            .all(|t| !t["name"].as_str().unwrap().contains("exits_cleanly"))
    );
    let scores: u64 = tests.iter().map(|t| t["score"].as_u64().unwrap()).sum();
    assert_eq!(scores, 7);
}

/// A check a rubric sets to 0 costs no marks: a program failing only that check gets exit
/// 0 and full marks, and the check is still reported as failed.
#[test]
fn zero_point_check_is_reported_not_scored() {
    let dir = tempfile::tempdir().unwrap();
    let rubric = write_rubric(dir.path(), "[points]\nexits_cleanly = 0\n");
    let program = vec![
        "python3".to_string(),
        "fixtures/serv_simple/fail/exit_status_1.py".to_string(),
    ];
    let (code, out, err) = run(
        &[
            "check",
            "serv_simple",
            "--format",
            "json",
            "--rubric",
            &rubric,
        ],
        &program,
    );
    assert_eq!(code, 0, "{err}");
    let r: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(r["score"], r["max_score"]);
    let exits = r["checks"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (&exits["name"], &exits["status"], &exits["max"]),
        (&"exits_cleanly".into(), &"failed".into(), &0.into())
    );
    // Without the rubric, the same program loses that mark.
    let (code, _, _) = run(&["check", "serv_simple", "--format", "json"], &program);
    assert_eq!(code, 1);
}

/// `[visibility]` and the defaults reach results.json: each test's `visibility` is its
/// check's, else `default_visibility`, which is also the top level's; `stdout_visibility`
/// as set. A hidden check still counts: the passing `prints_client` keeps its points.
#[test]
fn rubric_visibility_reaches_gradescope() {
    let dir = tempfile::tempdir().unwrap();
    let rubric = write_rubric(
        dir.path(),
        "lab = \"serv_simple\"\n\
         default_visibility = \"after_due_date\"\n\
         stdout_visibility = \"visible\"\n\
         [visibility]\n\
         prints_client = \"hidden\"\n\
         exits_cleanly = \"after_published\"\n\
         accepts = \"visible\"\n",
    );
    let r: Value =
        serde_json::from_str(&noisy_report("gradescope", &["--rubric", &rubric])).unwrap();
    assert_eq!(
        (&r["visibility"], &r["stdout_visibility"]),
        (&"after_due_date".into(), &"visible".into())
    );
    for (id, _) in lab_checks("serv_simple") {
        let want = match id.as_str() {
            "prints_client" => "hidden",
            "exits_cleanly" => "after_published",
            "accepts" => "visible",
            _ => "after_due_date",
        };
        assert_eq!(named(&r["tests"], &id)["visibility"], want, "{id}");
    }
    let client = named(&r["tests"], "prints_client");
    assert_eq!(
        (&client["score"], &client["status"]),
        (&2.into(), &"passed".into())
    );
    assert_eq!(r["score"], 4);
}

/// A rubric naming a check the lab lacks, in `[points]` or `[visibility]`, or a visibility
/// Gradescope lacks, is exit 2 with one line that lists what there is (the lab's checks, or
/// the four visibilities), for `check` and `grade` alike, before anything runs.
#[rstest]
fn bad_rubric_exits_2_listing_what_there_is(
    #[values("check", "grade")] mode: &str,
    #[values(
        "[points]\nprints_clent = 3\n",
        "[visibility]\nprints_clent = \"hidden\"\n",
        "[visibility]\nprints_client = \"secret\"\n",
        "default_visibility = \"later\"\n"
    )]
    text: &str,
) {
    let dir = tempfile::tempdir().unwrap();
    let rubric = write_rubric(dir.path(), text);
    std::fs::create_dir(dir.path().join("alice")).unwrap();
    let class = dir.path().display().to_string();
    let mut args = vec![mode, "serv_simple"];
    if mode == "grade" {
        args.push(&class);
    }
    args.extend(["--rubric", &rubric]);
    let (code, _, err) = run(&args, &["python3".into(), "{dir}/serv_simple.py".into()]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let listed: Vec<String> = match text.split_once("\nprints_clent") {
        Some((table, _)) => {
            let says = format!("{table}: serv_simple has no check 'prints_clent'");
            assert!(err.contains(&says), "{err}");
            lab_checks("serv_simple")
                .into_iter()
                .map(|(id, _)| id)
                .collect()
        }
        None => ["visible", "hidden", "after_due_date", "after_published"]
            .map(String::from)
            .to_vec(),
    };
    for name in listed {
        assert!(err.contains(&name), "{err} lacks {name}");
    }
}
