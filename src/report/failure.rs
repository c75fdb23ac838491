//! Why a check failed, as fields a reporter puts into words.

use std::time::Duration;

/// Why a check failed, in the student's terms: each part a field of its own, built by the
/// constructors below and put into words in one place ([`Failure::explanation`], which
/// every reporter shows), never glued into one text to be split apart again.
#[derive(Debug, Clone)]
pub struct Failure {
    /// What the check waited for.
    pub expected: String,
    /// What came instead (bytes escaped), or the state things were in.
    pub got: String,
    /// What happened, in plain words; a traceback or a compiler's message runs over lines.
    pub why: String,
    /// What to do about it: the reason's own advice where it found the mistake, else the
    /// lab's hint for the step (what a failure of it usually means), where that fits the
    /// program's language. The lab's hint is never given when the program was gone, since
    /// it explains a mistake, not a crash.
    pub hint: Option<String>,
    /// The hint is the reason's own (or the reason wants none): the lab's hint for the step
    /// would point elsewhere, and is not added.
    pub hint_decided: bool,
    /// The limit the program ran into, which is the reason before any other.
    pub limit: Option<String>,
    /// What had just happened when the program ended (the harness's last input), as `why`
    /// tells it: "as soon as a line was typed (\"hi\")".
    pub moment: Option<String>,
    /// The last line the program printed before it ended, quoted, as `why` tells it.
    pub last_line: Option<String>,
    /// How long the step waited before giving up, if it timed out.
    pub waited: Option<Duration>,
    /// The step failed because the program was gone, not because of what it did.
    pub program_gone: bool,
}

impl Failure {
    /// What was expected, what came, and why it is wrong.
    pub fn new(expected: impl Into<String>, got: impl Into<String>, why: impl Into<String>) -> Failure {
        Failure {
            expected: expected.into(),
            got: got.into(),
            why: why.into(),
            hint: None,
            hint_decided: false,
            limit: None,
            moment: None,
            last_line: None,
            waited: None,
            program_gone: false,
        }
    }

    /// A step that could not go on because the program is gone; `how_it_ended` says why.
    pub fn program_gone(
        expected: impl Into<String>,
        got: impl Into<String>,
        how_it_ended: impl Into<String>,
    ) -> Failure {
        Failure {
            program_gone: true,
            ..Failure::new(expected, got, how_it_ended)
        }
    }

    /// The same failure, after a wait of `waited` that ended without the event.
    pub fn after(self, waited: Duration) -> Failure {
        Failure {
            waited: Some(waited),
            ..self
        }
    }

    /// The same failure with the lab's hint for its step, unless the program was gone or
    /// the reason gave its own advice (or wanted none).
    pub fn with_hint(self, hint: Option<&str>) -> Failure {
        if self.hint_decided {
            return self;
        }
        Failure {
            hint: hint.filter(|_| !self.program_gone).map(str::to_string),
            ..self
        }
    }

    /// The same failure with `hint` as its advice, in place of the lab's hint for the step.
    pub fn with_own_hint(self, hint: Option<String>) -> Failure {
        Failure {
            hint,
            hint_decided: true,
            ..self
        }
    }

    /// The same failure, the program having run into `limit` (if any).
    pub fn with_limit(self, limit: Option<String>) -> Failure {
        Failure {
            limit: limit.or(self.limit),
            ..self
        }
    }

    /// The first line of the explanation: the limit, if any, then the first line of why.
    pub fn headline(&self) -> String {
        self.explanation().next().unwrap_or_default()
    }

    /// The explanation, line by line: the limit and why (`LIMIT; WHY`), then the hint.
    pub fn explanation(&self) -> impl Iterator<Item = String> + '_ {
        let mut why = self.why.lines();
        let first = why.next().unwrap_or_default();
        let headline = match &self.limit {
            Some(limit) => format!("{limit}; {first}"),
            None => first.to_string(),
        };
        std::iter::once(headline)
            .chain(why.map(str::to_string))
            .chain(self.hint.iter().flat_map(|h| h.lines()).map(str::to_string))
    }

    /// The explanation as one text, the hint on a line of its own (JSON's `message`).
    pub fn message(&self) -> String {
        let limit = self.limit.as_ref().map(|l| format!("{l}; ")).unwrap_or_default();
        let hint = self.hint.as_ref().map(|h| format!("\n{h}")).unwrap_or_default();
        format!("{limit}{}{hint}", self.why)
    }
}
