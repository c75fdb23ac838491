//! Compiling is part of the run: C submissions that try, when compiled, to reach outside
//! their run (embed a hidden or an instructor's file, `#include` a classmate's file or the
//! reference solution, run a classmate's compiled program, never finish), graded by root in
//! namespaces and in a Docker-like container (uid isolation, as on Gradescope). What they
//! were after is in no report, their class score is 0, the compiler is stopped by its
//! limits.

mod common;

use std::path::Path;

use common::attempts::{Subject, file_of_roots, grade, open_folder, secret};
use common::{Place, open_to_all};
use rstest::rstest;
use serde_json::Value;

/// serv_simple in C, printing `loot` in place of the client's message when it has any;
/// `prelude` comes first (what defines `loot`).
fn serv_simple_c(prelude: &str, before_listening: &str) -> String {
    let lesson = std::fs::read_to_string("fixtures/serv_simple/pass/stdio_no_flush.c").unwrap();
    let body = lesson
        .replace(
            "        printf(\"%s\", buf);",
            "        if (loot[0]) printf(\"LOOT %s\\n\", loot); else printf(\"%s\", buf);",
        )
        .replace(
            "    int sock = socket(",
            &format!("    {before_listening}\n    int sock = socket("),
        );
    assert_ne!(
        body, lesson,
        "the lesson's C program changed: adapt this test"
    );
    format!("{prelude}\n{body}")
}

/// A C program that embeds the file at `path` (as the assembler finds it) as its loot.
fn embedding(path: &str) -> String {
    serv_simple_c(
        &format!(
            "__asm__(\".section .rodata\\n.globl loot\\nloot:\\n.incbin \\\"{path}\\\"\\n.byte 0\\n.previous\\n\");\nextern const char loot[];"
        ),
        "",
    )
}

/// A C program with nothing to show.
fn honest_c() -> String {
    serv_simple_c("static const char loot[] = \"\";", "")
}

/// A `.c` that embeds a file given to `--hide`, or the instructor's notes in socklab's
/// working folder (by their name alone, as the assembler looks in its working folder),
/// and prints it: it does not compile, and the file's text is in no report.
#[rstest]
fn the_compiler_cannot_embed_hidden_or_instructors_files(
    #[values(Place::Namespaces, Place::Docker)] place: Place,
    #[values("hidden", "next to the grading folder")] whose: &str,
) {
    let secret = secret();
    let grading = open_folder();
    let notes = file_of_roots(grading.path(), "instructor_notes.txt", &secret, 0o644);
    let student = open_folder();
    let source = student.path().join("serv_simple.c");
    let (embedded, options) = match whose {
        "hidden" => (
            notes.display().to_string(),
            vec!["--hide".to_string(), notes.display().to_string()],
        ),
        _ => ("instructor_notes.txt".to_string(), Vec::new()),
    };
    std::fs::write(&source, embedding(&embedded)).unwrap();
    let options: Vec<&str> = options.iter().map(String::as_str).collect();
    let dir = grading.path().to_path_buf();
    let graded = grade(place, &options, Subject::File(&source), |cmd| {
        cmd.current_dir(dir);
    });
    graded.assert_secret_absent(&secret);
    assert_eq!(graded.json["score"], 0, "{:#}", graded.json);
}

/// A C program that looks, for six seconds, for a classmate's compiled serv_simple where
/// socklab builds them (its temporary folders), and runs the first it finds as its own.
const THIEF_C: &str = r#"
#include <glob.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    const char *patterns[] = {
        "/tmp/socklab-*/serv_simple", "/tmp/socklab-*/*/serv_simple",
        "/tmp/socklab-*/*/*/serv_simple", "/tmp/socklab-*/.*/serv_simple",
    };
    char self[PATH_MAX], found[PATH_MAX];
    if (realpath("/proc/self/exe", self) == NULL)
        return 1;
    for (int round = 0; round < 120; round++) {
        for (size_t p = 0; p < sizeof patterns / sizeof *patterns; p++) {
            glob_t g;
            if (glob(patterns[p], 0, NULL, &g) != 0)
                continue;
            for (size_t i = 0; i < g.gl_pathc; i++)
                if (realpath(g.gl_pathv[i], found) && strcmp(found, self) != 0
                    && access(found, X_OK) == 0)
                    execv(found, argv);
            globfree(&g);
        }
        usleep(50000);
    }
    return 1;
}
"#;

/// `socklab grade` on a class of C submissions, all graded at once: ann and bea are
/// correct (bea takes four seconds to start, so that her program is there to be found);
/// copycat `#include`s ann's file, solver the instructor's reference solution (outside the
/// class: in namespaces nothing hides it but the compiler's own view; in a container it is
/// given to `--hide`, as run_autograder does with source/), and thief runs whichever
/// classmate's compiled program it finds. Only ann and bea get marks.
#[rstest]
fn submissions_cannot_include_or_run_each_others_work(
    #[values(Place::Namespaces, Place::Docker)] place: Place,
) {
    let instructor = tempfile::Builder::new()
        .prefix("instructor-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap();
    open_to_all(instructor.path());
    let solution = instructor.path().join("serv_simple.c");
    std::fs::write(&solution, honest_c()).unwrap();
    let class = open_folder();
    let include = |path: &Path| format!("#include \"{}\"\n", path.display());
    for (id, source) in [
        ("ann", honest_c()),
        (
            "bea",
            serv_simple_c("static const char loot[] = \"\";", "sleep(4);"),
        ),
        ("copycat", include(&class.path().join("ann/serv_simple.c"))),
        ("solver", include(&solution)),
        ("thief", THIEF_C.to_string()),
    ] {
        let folder = class.path().join(id);
        std::fs::create_dir(&folder).unwrap();
        open_to_all(&folder);
        std::fs::write(folder.join("serv_simple.c"), source).unwrap();
    }
    let mut cmd = place.socklab();
    cmd.args(["grade", "serv_simple"]).arg(class.path()).args([
        "serv_simple.c",
        "--jobs",
        "5",
        "--format",
        "json",
    ]);
    if place == Place::Docker {
        cmd.arg("--hide").arg(instructor.path());
    }
    let output = cmd.output().unwrap();
    let graded: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)));
    let scores = common::class_scores(&graded);
    let want: Vec<(String, u64)> = [
        ("ann", 10),
        ("bea", 10),
        ("copycat", 0),
        ("solver", 0),
        ("thief", 0),
    ]
    .map(|(id, score)| (id.to_string(), score))
    .to_vec();
    assert_eq!(scores, want, "{graded:#}");
}

/// A compile that never ends (`#include "/dev/zero"`: cc1 reads without end and grows) is
/// stopped by the run's memory limit: a file that did not compile, and no process of the
/// run ever larger than the limit.
#[rstest]
fn a_compile_that_never_ends_is_stopped_by_its_limits(
    #[values(Place::Namespaces, Place::Docker)] place: Place,
) {
    let student = open_folder();
    let source = student.path().join("serv_simple.c");
    std::fs::write(&source, "#include \"/dev/zero\"\n").unwrap();
    let began = std::time::Instant::now();
    let (code, stdout, peak_kib) = common::run_measured(
        place
            .socklab()
            .args(["check", "serv_simple"])
            .arg(&source)
            .args(["--max-memory", "128", "--format", "json"]),
    );
    let report: Value = serde_json::from_slice(&stdout).unwrap();
    assert_eq!(code, 1, "{report:#}");
    assert!(
        report["notices"][0]
            .as_str()
            .is_some_and(|n| n.contains("did not compile")),
        "{report:#}"
    );
    assert!(
        peak_kib < 200 << 10,
        "a process of the run grew to {} MiB",
        peak_kib >> 10
    );
    assert!(
        began.elapsed() < std::time::Duration::from_secs(60),
        "stopped after {:?}",
        began.elapsed()
    );
}
