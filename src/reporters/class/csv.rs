//! `socklab grade --format csv`: a row per submission in order of id, for a gradebook:
//! `id,score,max_score`, then the points of each check in the lab's order (a column named
//! after the check), then `status` and `error` as in the JSON, and `isolation` (empty if
//! not run). A submission socklab failed on has no score and no points: empty cells, not
//! zeros a gradebook would take. Quoting by the csv crate.

use std::io::{self, Write};

use crate::report::ClassReport;
use crate::reporters::class::json::status;

pub fn write(class: &ClassReport, out: &mut dyn Write) -> io::Result<()> {
    rows(class, out).map_err(io::Error::from)
}

fn rows(class: &ClassReport, out: &mut dyn Write) -> ::csv::Result<()> {
    let mut rows = ::csv::Writer::from_writer(out);
    let mut header = vec!["id", "score", "max_score"];
    header.extend(class.checks.iter().map(|(id, _)| id.as_str()));
    header.extend(["status", "error", "isolation"]);
    rows.write_record(&header)?;
    for s in &class.submissions {
        let (status, error) = status(&s.verdict);
        let mut row = vec![
            s.id.clone(),
            s.score().map(|n| n.to_string()).unwrap_or_default(),
            s.report.max_score().to_string(),
        ];
        row.extend(class.checks.iter().map(|(id, _)| {
            s.score()
                .and_then(|_| s.report.checks.iter().find(|c| &c.id == id))
                .map(|c| c.points.to_string())
                .unwrap_or_default()
        }));
        row.extend([
            status.to_string(),
            error.unwrap_or_default().to_string(),
            s.report
                .isolation
                .map(|l| l.to_string())
                .unwrap_or_default(),
        ]);
        rows.write_record(&row)?;
    }
    rows.flush()?;
    Ok(())
}
