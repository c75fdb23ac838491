//! Points and visibility without a rebuild: a small TOML file, passed as `--rubric FILE`,
//! that changes the points of a lab's checks, and when Gradescope shows each to students. A
//! check set to 0 points is still run and reported, but not scored.
//!
//! ```toml
//! lab = "serv_simple"        # optional; if present it must be the lab being graded
//! default_visibility = "visible"   # Gradescope: every check's unless [visibility] says
//! stdout_visibility = "hidden"     # Gradescope: run_autograder's stdout (default hidden)
//! [points]
//! prints_client = 3
//! exits_cleanly = 0          # reported, not scored
//! [visibility]
//! exits_cleanly = "after_published"
//! ```
//!
//! Visibility values are Gradescope's: `visible`, `hidden`, `after_due_date`,
//! `after_published` (see [`crate::reporters::gradescope`]); only the Gradescope format
//! reads them, and a hidden check still counts. Checks the file does not name keep the
//! points the lab gives them and the default visibility. A name that is not one of the
//! lab's checks, in `[points]` or `[visibility]`, is an error that lists the lab's checks,
//! and a value that is not a visibility one that lists the four, so a typo never silently
//! leaves the default in place. A check shown to students that needs one shown later (or
//! never) is an error too: its "not reached" would tell them of the other.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::reporters::gradescope::{Visibilities, Visibility};
use crate::script::Lab;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rubric {
    /// Where it came from, for error messages.
    file: String,
    lab: Option<String>,
    points: BTreeMap<String, u32>,
    visibility: Visibilities,
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RubricFile {
    lab: Option<String>,
    #[serde(default)]
    points: BTreeMap<String, u32>,
    default_visibility: Option<Visibility>,
    stdout_visibility: Option<Visibility>,
    #[serde(default)]
    visibility: BTreeMap<String, Visibility>,
}

impl Rubric {
    pub fn load(path: &Path) -> Result<Rubric> {
        let text = std::fs::read_to_string(path)
            .map_err(Error::io(format!("reading the rubric {}", path.display())))?;
        Rubric::parse(&text, &path.display().to_string())
    }

    /// Parses rubric `text`; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Rubric> {
        let parsed: RubricFile = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|span| {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}: ")
                })
                .unwrap_or_default();
            Error::Rubric {
                file: file.to_string(),
                message: format!("{at}{}", e.message().trim().replace('\n', "; ")),
            }
        })?;
        let defaults = Visibilities::default();
        Ok(Rubric {
            file: file.to_string(),
            lab: parsed.lab,
            points: parsed.points,
            visibility: Visibilities {
                default: parsed.default_visibility.unwrap_or(defaults.default),
                stdout: parsed.stdout_visibility.unwrap_or(defaults.stdout),
                checks: parsed.visibility,
            },
        })
    }

    /// How Gradescope shows the lab's results to students.
    pub fn visibility(&self) -> &Visibilities {
        &self.visibility
    }

    /// Sets the points of the checks the rubric names.
    pub fn apply(&self, lab: &mut Lab) -> Result<()> {
        let error = |message: String| Error::Rubric {
            file: self.file.clone(),
            message,
        };
        if let Some(name) = &self.lab
            && !lab.is_called(name)
        {
            return Err(error(format!("it is for lab '{name}', not '{}'", lab.name)));
        }
        let known: Vec<&str> = lab.checks().map(|c| c.id.as_str()).collect();
        let named = (self.points.keys().map(|id| ("points", id)))
            .chain(self.visibility.checks.keys().map(|id| ("visibility", id)));
        for (table, id) in named {
            if !known.contains(&id.as_str()) {
                return Err(error(format!(
                    "[{table}]: {} has no check '{id}'; its checks are: {}",
                    lab.name,
                    known.join(", ")
                )));
            }
        }
        self.check_needs_shown(lab).map_err(error)?;
        for (id, points) in &self.points {
            if let Some(check) = lab.check_mut(id) {
                check.points = *points;
            }
        }
        Ok(())
    }
}

impl Rubric {
    /// A check students are shown must not need one they are shown later: were that one
    /// to fail, the shown check's reason (not reached: needs 'X') would name it.
    fn check_needs_shown(&self, lab: &Lab) -> std::result::Result<(), String> {
        for check in lab.checks() {
            let shown = self.visibility.of(&check.id);
            for need in &check.needs {
                let needed = self.visibility.of(need);
                if needed > shown {
                    return Err(format!(
                        "[visibility]: {} ({}) needs {need} ({}), so students would read that {need} did not pass; make {} {} too, or {need} {}",
                        check.id,
                        shown.as_str(),
                        needed.as_str(),
                        check.id,
                        needed.as_str(),
                        shown.as_str()
                    ));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labs::Labs;

    fn points(lab: &Lab) -> Vec<(String, u32)> {
        lab.checks().map(|c| (c.id.clone(), c.points)).collect()
    }

    /// Named checks get the rubric's points, 0 included; the others keep the lab's.
    #[test]
    fn sets_the_points_it_names_and_keeps_the_rest() {
        let rubric = Rubric::parse(
            "lab = \"serv_simple\"\n[points]\nprints_client = 3\nexits_cleanly = 0\n",
            "r.toml",
        )
        .unwrap();
        let mut lab = Labs::built_in().find("serv_simple").unwrap();
        let before = points(&lab);
        rubric.apply(&mut lab).unwrap();
        let after = points(&lab);
        for ((id, old), (_, new)) in before.iter().zip(&after) {
            let want = match id.as_str() {
                "prints_client" => 3,
                "exits_cleanly" => 0,
                _ => *old,
            };
            assert_eq!(*new, want, "{id}");
        }
        assert_ne!(before, after);
    }

    /// A rubric without `lab` fits any lab whose checks it names; an empty one changes
    /// nothing.
    #[test]
    fn lab_is_optional_and_points_may_be_empty() {
        let mut lab = Labs::built_in().find("serv_tcp").unwrap();
        let before = points(&lab);
        Rubric::parse("", "r.toml")
            .unwrap()
            .apply(&mut lab)
            .unwrap();
        assert_eq!(points(&lab), before);
        Rubric::parse("[points]\naccepts = 5\n", "r.toml")
            .unwrap()
            .apply(&mut lab)
            .unwrap();
        assert_eq!(lab.checks().next().unwrap().points, 5);
    }

    /// The error applying rubric `text` to `lab`.
    fn apply_error(text: &str, lab: &mut Lab) -> String {
        let rubric = Rubric::parse(text, "r.toml").unwrap();
        rubric.apply(lab).unwrap_err().to_string()
    }

    /// A misspelt check is an error naming it and every check of the lab.
    #[test]
    fn unknown_check_lists_the_labs_checks() {
        let mut lab = Labs::built_in().find("conn_simple").unwrap();
        let err = apply_error("[points]\nsends_helo = 1\n", &mut lab);
        assert!(err.contains("r.toml"), "{err}");
        assert!(err.contains("no check 'sends_helo'"), "{err}");
        for check in lab.checks() {
            assert!(err.contains(check.id.as_str()), "{err} lacks {}", check.id);
        }
        assert!(!err.contains('\n'), "one line: {err}");
    }

    /// Without visibility in the rubric, Gradescope's own defaults; with it, each named
    /// check's, the default for the rest, and stdout's.
    #[test]
    fn visibility_is_per_check_with_a_default() {
        let none = Rubric::parse("[points]\naccepts = 2\n", "r.toml").unwrap();
        assert_eq!(none.visibility(), &Visibilities::default());
        let rubric = Rubric::parse(
            "default_visibility = \"after_due_date\"\nstdout_visibility = \"visible\"\n\
             [visibility]\nexits_cleanly = \"hidden\"\n",
            "r.toml",
        )
        .unwrap();
        let shown = rubric.visibility();
        assert_eq!(shown.of("exits_cleanly"), Visibility::Hidden);
        assert_eq!(shown.of("reachable"), Visibility::AfterDueDate);
        assert_eq!(shown.stdout, Visibility::Visible);
        rubric
            .apply(&mut Labs::built_in().find("serv_simple").unwrap())
            .unwrap();
    }

    /// A misspelt check in `[visibility]` is refused like one in `[points]`; a value that
    /// is no visibility is a one-line error listing the four.
    #[test]
    fn unknown_visibility_names_and_values_are_refused() {
        let mut lab = Labs::built_in().find("serv_simple").unwrap();
        let err = apply_error("[visibility]\nacepts = \"hidden\"\n", &mut lab);
        assert!(
            err.contains("[visibility]: serv_simple has no check 'acepts'"),
            "{err}"
        );
        assert!(err.contains("prints_client"), "{err}");
        let err = Rubric::parse("[visibility]\naccepts = \"secret\"\n", "r.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("line 2") && !err.contains('\n'), "{err}");
        for value in ["visible", "hidden", "after_due_date", "after_published"] {
            assert!(err.contains(value), "{err}");
        }
    }

    /// Hiding a check that others need is refused, saying which and what to write; hiding
    /// the others too, or a check nothing needs, is fine.
    #[test]
    fn a_shown_check_may_not_need_a_hidden_one() {
        let mut lab = Labs::built_in().find("serv_simple").unwrap();
        let err = apply_error("[visibility]\naccepts = \"hidden\"\n", &mut lab);
        assert!(
            err.contains("[visibility]: reachable (visible) needs accepts (hidden), so students would read that accepts did not pass; make reachable hidden too, or accepts visible"),
            "{err}"
        );
        let later = "default_visibility = \"after_due_date\"\n[visibility]\naccepts = \"visible\"\nsends_typed_line = \"hidden\"\n";
        Rubric::parse(later, "r.toml").unwrap().apply(&mut lab).unwrap();
    }

    #[test]
    fn rubric_for_another_lab_is_refused() {
        let mut lab = Labs::built_in().find("serv_simple").unwrap();
        let err = apply_error("lab = \"serv_tcp\"\n", &mut lab);
        assert!(
            err.contains("for lab 'serv_tcp', not 'serv_simple'"),
            "{err}"
        );
    }

    /// Bad TOML, a negative or fractional number, or an unknown key: one line with where.
    #[test]
    fn malformed_rubrics_are_one_line_errors() {
        for (text, says) in [
            ("[points]\naccepts = -1\n", "line 2"),
            ("[points]\naccepts = 1.5\n", "line 2"),
            ("[points\n", "line 1"),
            ("point = 3\n", "unknown field"),
            ("[points]\naccepts = \"two\"\n", "line 2"),
        ] {
            let err = Rubric::parse(text, "r.toml").unwrap_err().to_string();
            assert!(err.contains(says), "{text:?}: {err}");
            assert!(!err.contains('\n'), "{text:?}: one line: {err}");
        }
    }
}
