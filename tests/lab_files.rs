//! Labs as files an instructor writes: a lab from a folder or a file, no rebuild; every
//! mistake in a lab file refused with its file and line; the built-in labs' files shown as
//! they are; a lesson program edited to another port graded with `--port`.

mod common;

use std::path::Path;

use common::{assert_cannot_grade, example_labs, exit_code, socklab};
use rstest::rstest;

fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stderr)))
}

/// An instructor's lab (the example conn_udp) from a folder, through `--labs-dir` or
/// `SOCKLAB_LABS`, and from one file, through `--lab-file` (then `socklab check FILE`
/// needs no lab named): listed with where it came from, and graded.
#[test]
fn a_lab_from_a_folder_or_a_file_needs_no_rebuild() {
    let listed = socklab()
        .args(["labs", "--labs-dir", &example_labs()])
        .output()
        .unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("conn_udp") && l.contains("conn_udp.toml]")),
        "{listed}"
    );
    let by_env = socklab()
        .env("SOCKLAB_LABS", example_labs())
        .args([
            "check",
            "conn_udp",
            "fixtures/conn_udp/pass/lesson_style.py",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(exit_code(&by_env), 0, "{}", json(&by_env));
    let lab_file = format!("{}/conn_udp.toml", example_labs());
    let by_file = socklab()
        .args([
            "check",
            "--lab-file",
            &lab_file,
            "fixtures/conn_udp/fail/forgets_newline.py",
        ])
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report = json(&by_file);
    assert_eq!(exit_code(&by_file), 1);
    assert_eq!(report["lab"], "conn_udp");
    assert_eq!(common::not_passed(&report), ["sends_hello"]);
}

/// The words of the lab file `base`, with one mistake put in: `replace` becomes `with`.
fn broken(base: &str, replace: &str, with: &str) -> String {
    let text = std::fs::read_to_string(base).unwrap();
    assert!(text.contains(replace), "{base}: {replace}");
    text.replacen(replace, with, 1)
}

/// The line (1-based) of `text` where `needle` first starts.
fn line_of(text: &str, needle: &str) -> usize {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in {text}"));
    text[..at].matches('\n').count() + 1
}

/// The lab file `base` with `replace` made `with`, in a folder of labs, is refused before
/// anything runs: exit 2, one line with the file, the line holding `on_line_with`, and
/// `says`.
fn assert_refused(base: &str, replace: &str, with: &str, on_line_with: &str, says: &str) {
    let dir = tempfile::tempdir().unwrap();
    let text = broken(base, replace, with);
    let name = Path::new(base).file_name().unwrap();
    let file = dir.path().join(name);
    std::fs::write(&file, &text).unwrap();
    let line = line_of(&text, on_line_with);
    let lab = Path::new(base).file_stem().unwrap().to_str().unwrap();
    let output = socklab()
        .args(["check", lab, "--labs-dir"])
        .arg(dir.path())
        .args(["--", "python3", "never_run.py"])
        .output()
        .unwrap();
    assert_cannot_grade(&output, &format!("{}:{line}: ", file.display()));
    assert_cannot_grade(&output, says);
    assert_eq!(String::from_utf8_lossy(&output.stderr).lines().count(), 1);
}

const CONN_UDP: &str = "grading/labs/conn_udp.toml";

/// Every kind of mistake in a lab file is refused before anything runs, exit 2, with the
/// file and the line it is on, and what is wrong.
#[rstest]
#[case::needs_no_such_check(
    "name = \"prints_reply\"\npoints = 3\n",
    "name = \"prints_reply\"\npoints = 3\nneeds = [\"sends_helo\"]\n",
    "needs = [\"sends_helo\"]",
    "check prints_reply needs 'sends_helo', which is no earlier check; did you mean 'sends_hello'? (the checks before it are: sends_hello)"
)]
#[case::unknown_field(
    "points = 3\n",
    "points = 3\npoints_bonus = 1\n",
    "points_bonus",
    "unknown field `points_bonus`"
)]
#[case::duplicate_check(
    "name = \"exits_cleanly\"",
    "name = \"sends_hello\" # again",
    "# again",
    "there is already a check called sends_hello"
)]
#[case::unknown_placeholder(
    "{ \"program prints\" = \"test\\n\"",
    "{ \"program prints line with\" = [\"{bob.name}\"]",
    "{bob.name}",
    "unknown placeholder {bob.name}"
)]
#[case::step_off_protocol(
    "{ \"bob replies datagram\" = \"test\\n\" }",
    "{ \"bob sends\" = \"test\\n\" }",
    "\"bob sends\"",
    "`bob sends` is a TCP step, and this run is UDP"
)]
#[case::points_not_whole(
    "points = 3\ndescription = \"prints",
    "points = 2.5\ndescription = \"prints",
    "points = 2.5",
    "points are a whole number"
)]
#[case::env_home(
    "port = 9000\n",
    "port = 9000\nenv = { HOME = \"/root\" }\n",
    "env = ",
    "env: \"HOME\" cannot be set for the program"
)]
#[case::unknown_step(
    "{ \"program exits with\" = 0 }",
    "{ \"program quits with\" = 0 }",
    "quits with",
    "unknown step `program quits with`"
)]
fn every_mistake_is_refused_with_file_and_line(
    #[case] replace: &str,
    #[case] with: &str,
    #[case] on_line_with: &str,
    #[case] says: &str,
) {
    assert_refused(CONN_UDP, replace, with, on_line_with, says);
}

/// Lab files that load but would grade nonsense are refused as typos are: steps that no
/// program can meet (every program would fail) or that every program meets (free points),
/// each with the file, the line and what to write instead.
#[rstest]
#[case::typed_line_holds_a_newline(
    "src/labs/serv_simple.toml",
    "{ \"keyboard types\" = \"hello back\" }",
    "{ \"keyboard types\" = \"hello\\nback\" }",
    "hello\\nback",
    "`keyboard types` types one line and presses Enter itself, so a newline in it would type two lines as one step: write a step for each line"
)]
#[case::typed_line_holds_a_control_character(
    "src/labs/serv_simple.toml",
    "{ \"keyboard types\" = \"hello back\" }",
    "{ \"keyboard types\" = \"bye\\u0004\" }",
    "bye",
    "the terminal acts on control characters"
)]
#[case::a_peer_listens_where_the_program_is_the_server(
    "src/labs/serv_simple.toml",
    "order = 1\n",
    "order = 1\nsetup = [{ \"bob listens\" = true }]\n",
    "\"bob listens\"",
    "bob takes the lab's port in setup, yet the program is the server here (`alice connects`): a server program needs the port itself; drop the setup, or grade a client program (`bob accepts`)"
)]
#[case::no_peer_listens_for_a_client(
    "src/labs/conn_simple.toml",
    "setup = [\n    { \"bob listens\" = true },\n]\n",
    "",
    "\"bob accepts\"",
    "`bob accepts` a connection from the program, but bob does not listen for one: add setup = [{ \"bob listens\" = true }]"
)]
#[case::two_peers_hold_the_port(
    "src/labs/conn_simple.toml",
    "{ \"bob listens\" = true },\n]",
    "{ \"bob listens\" = true },\n    { \"alice listens\" = true },\n]",
    "\"alice listens\"",
    "bob already takes the lab's port in setup, and two peers cannot both hold it"
)]
#[case::listens_in_a_check(
    "src/labs/conn_simple.toml",
    "    { \"bob accepts\" = true },",
    "    { \"bob listens\" = true },\n    { \"bob accepts\" = true },",
    "    { \"bob listens\" = true },\n    { \"bob accepts",
    "`bob listens` goes in setup"
)]
#[case::sends_before_a_connection(
    "src/labs/serv_simple.toml",
    "    { \"alice connects\" = true },",
    "    { \"alice sends\" = \"early\\n\" },\n    { \"alice connects\" = true },",
    "early",
    "`alice sends` before alice has a connection: first `alice connects` (to a server program) or `alice accepts` (from a client program)"
)]
#[case::reachable_before_a_connection(
    "src/labs/serv_simple.toml",
    "    { \"alice connects\" = true },",
    "    { \"program is reachable at bob\" = true },\n    { \"alice connects\" = true },",
    "{ \"program is reachable at bob\" = true },\n    { \"alice connects",
    "`program is reachable at bob` judges where the program was reached: put `alice connects` before it"
)]
#[case::a_check_that_cannot_fail(
    "src/labs/serv_simple.toml",
    "    { \"program prints\" = \"Hello!\\n\" },\n",
    "",
    "name = \"prints_message\"",
    "check prints_message only acts, so it passes whatever the program does"
)]
#[case::a_line_step_holds_a_newline(
    "src/labs/serv_simple.toml",
    "\"alice receives line\" = \"hello back\"",
    "\"alice receives line\" = \"hello\\nback\"",
    "hello\\nback",
    "`alice receives line` is one line, written without its newline: for several lines or exact bytes, use `alice receives`"
)]
#[case::a_line_with_no_parts(
    "src/labs/serv_simple.toml",
    "[\"connection from\", \"{alice.ip}\", \"{alice.port}\"]",
    "[]",
    "prints line with\" = []",
    "the parts of the line (one at least)"
)]
#[case::a_datagram_before_the_program_binds(
    "src/labs/udp_serv.toml",
    "steps = [\n    { \"program binds udp\" = true",
    "steps = [\n    { \"alice sends datagram\" = \"early\\n\" },\n    { \"program binds udp\" = true",
    "early",
    "a datagram sent before the program binds it is lost"
)]
#[case::a_datagram_to_a_client_program(
    CONN_UDP,
    "{ \"bob replies datagram\" = \"test\\n\" }",
    "{ \"bob sends datagram\" = \"test\\n\" }",
    "bob sends datagram",
    "here the program is a client (bob binds udp in setup): answer it with `bob replies datagram`"
)]
#[case::no_socket_for_a_datagram(
    CONN_UDP,
    "setup = [\n    { \"bob binds udp\" = true },\n]\n",
    "",
    "\"bob receives datagram\"",
    "`bob receives datagram`, but bob has no socket to receive on"
)]
#[case::a_reply_before_any_datagram(
    CONN_UDP,
    "{ \"bob receives datagram\" = \"Hello!\\n\", hint",
    "{ \"program prints\" = \"Hello!\\n\", hint",
    "bob replies datagram",
    "`bob replies datagram` answers the datagram bob received last, and bob has received none yet"
)]
#[case::expects_nothing(
    CONN_UDP,
    "{ \"program prints\" = \"test\\n\", hint",
    "{ \"program prints\" = \"\", hint",
    "\"program prints\" = \"\"",
    "`program prints` of nothing: it would pass whatever the program does"
)]
#[case::an_exit_status_out_of_range(
    CONN_UDP,
    "{ \"program exits with\" = 0 }",
    "{ \"program exits with\" = 256 }",
    "256",
    "a whole number from 0 to 255, not 256"
)]
fn nonsense_is_refused_with_file_line_and_fix(
    #[case] base: &str,
    #[case] replace: &str,
    #[case] with: &str,
    #[case] on_line_with: &str,
    #[case] says: &str,
) {
    assert_refused(base, replace, with, on_line_with, says);
}

/// `socklab labs --show LAB` prints the built-in lab's file as it is (a start for an
/// instructor's own), and that text, put in a folder, grades as the built-in lab does.
#[test]
fn a_built_in_labs_file_is_shown_and_works_as_a_lab_file() {
    let shown = socklab()
        .args(["labs", "--show", "serv_tcp"])
        .output()
        .unwrap();
    assert_eq!(exit_code(&shown), 0);
    assert_eq!(
        shown.stdout,
        std::fs::read("src/labs/serv_tcp.toml").unwrap()
    );
    let dir = tempfile::tempdir().unwrap();
    // The instructor's copy, for a class machine where 8000 is taken: the same lab on 12345.
    let text = String::from_utf8(shown.stdout)
        .unwrap()
        .replace("port = 8000", "port = 12345");
    std::fs::write(dir.path().join("serv_tcp.toml"), text).unwrap();
    let program = dir.path().join("serv_tcp.py");
    let lesson = std::fs::read_to_string("fixtures/serv_tcp/pass/lesson_serv_tcp.py").unwrap();
    std::fs::write(&program, lesson.replace("8000", "12345")).unwrap();
    let output = socklab()
        .args(["check", "serv_tcp", "--format", "json", "--labs-dir"])
        .arg(dir.path())
        .arg(&program)
        .output()
        .unwrap();
    let report = json(&output);
    assert_eq!(
        (exit_code(&output), &report["port"]),
        (0, &serde_json::json!(12345)),
        "{report:#}"
    );
}

/// `--port 12345` grades the lesson's serv_tcp.py edited to port 12345 at full marks; without
/// it, the program is told where it listens instead.
#[test]
fn port_option_grades_a_handout_with_another_port() {
    let dir = tempfile::tempdir().unwrap();
    let program = dir.path().join("serv_tcp.py");
    let lesson = std::fs::read_to_string("fixtures/serv_tcp/pass/lesson_serv_tcp.py").unwrap();
    std::fs::write(&program, lesson.replace("8000", "12345")).unwrap();
    let graded = |extra: &[&str]| {
        let output = socklab()
            .args(["check", "serv_tcp"])
            .arg(&program)
            .args(["--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        (exit_code(&output), json(&output))
    };
    let (code, report) = graded(&["--port", "12345"]);
    assert_eq!(code, 0, "{report:#}");
    let (code, report) = graded(&[]);
    assert_eq!(code, 1);
    assert!(
        report
            .to_string()
            .contains("your program listens on TCP 12345"),
        "{report:#}"
    );
    assert!(Path::new(&program).exists());
}

/// `socklab check --lab-file LAB` of a one-check lab written into `dir`, against `program`.
fn check_with_lab(dir: &Path, lab: &str, program: &[&str]) -> std::process::Command {
    let file = dir.join("lab.toml");
    std::fs::write(&file, lab).unwrap();
    let mut cmd = socklab();
    cmd.args(["check", "--lab-file"])
        .arg(&file)
        .args(["--format", "json", "--"])
        .args(program);
    cmd
}

/// In `prints line with`, `{{` and `}}` are braces the program prints, as the loader says:
/// a line `{x} on 8000` matches `["{{x}}", "{port}"]`.
#[test]
fn doubled_braces_are_braces() {
    let dir = tempfile::tempdir().unwrap();
    let output = check_with_lab(
        dir.path(),
        "name = \"braces\"\nsummary = \"prints braces\"\nprotocol = \"tcp\"\nport = 8000\n\n\
         [[check]]\nname = \"prints_braces\"\npoints = 1\ndescription = \"prints {x} and the port\"\n\
         steps = [{ \"program prints line with\" = [\"{{x}}\", \"{port}\"] }]\n",
        &["python3", "-c", "print('{x} on 8000')"],
    )
    .output()
    .unwrap();
    assert_eq!(exit_code(&output), 0, "{}", json(&output));
}

/// What a lab's `env` names reaches the program, besides its fixed environment; socklab's
/// own variables do not.
#[test]
fn a_labs_env_reaches_the_program() {
    let dir = tempfile::tempdir().unwrap();
    let python = common::shared_python();
    let output = check_with_lab(
        dir.path(),
        "name = \"env\"\nsummary = \"prints its environment\"\nprotocol = \"tcp\"\nport = 8000\n\
         env = { GREETING = \"hi from the lab\" }\n\n\
         [[check]]\nname = \"prints_env\"\npoints = 1\ndescription = \"prints its environment\"\n\
         steps = [{ \"program prints\" = \"GREETING,HOME,LANG,PATH,TERM hi from the lab\\n\" }]\n",
        &[
            &python,
            "-c",
            "import os; print(','.join(sorted(os.environ)), os.environ['GREETING'])",
        ],
    )
    .env("SOCKLAB_OWN", "socklab's")
    .output()
    .unwrap();
    assert_eq!(exit_code(&output), 0, "{}", json(&output));
}
