//! A mistake on the command line as one line: what clap found wrong, the similar name it
//! suggests, and an example of the subcommand meant (the end of its one-line help), rather
//! than clap's usage block.

/// The line for `error`, found in `args` (the arguments after the program's name) by
/// `command`, socklab's whole command line.
pub fn one_line(error: &clap::Error, command: &clap::Command, args: &[String]) -> String {
    // clap's first line, with the names it lists under it (missing arguments).
    let text = error.render().to_string();
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let listed: Vec<&str> = lines
        .by_ref()
        .take_while(|l| !l.trim().is_empty())
        .map(str::trim)
        .collect();
    let what = format!("{} {}", first.trim_start_matches("error: "), listed.join(" "));
    let tips: String = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("tip: "))
        .filter(|tip| tip.contains("similar"))
        .map(|tip| format!(" ({tip})"))
        .collect();
    let subcommand = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .and_then(|name| command.find_subcommand(name));
    let example = subcommand
        .and_then(|sub| Some(sub.get_about()?.to_string().split_once(": ")?.1.to_string()));
    let see = match (example, subcommand) {
        (Some(example), _) => format!("e.g. {example}"),
        (None, Some(sub)) => format!("see socklab {} --help", sub.get_name()),
        (None, None) => "see socklab --help".into(),
    };
    format!("socklab: {}{tips}; {see}", what.trim_end())
}
