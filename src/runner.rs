//! Runs one lab against one program: a thread of its own enters a fresh namespace, starts
//! the program, carries out each check's steps against the [`Session`], and sends events
//! to the caller, who hands them to a reporter.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::confine::Confinement;
use crate::error::{Error, Result};
use crate::escape;
use crate::launch::Enclosure;
use crate::launch::Program;
use crate::limits::{Limits, RunLimits};
use crate::report::IsolationLevel;
use crate::report::{CheckResult, Entry, Event, Failure, Outcome, Report, RunSummary};
use crate::sandbox::Isolation;
use crate::sandbox::place::{IsolationFloor, Place, Wanted};
use crate::script::Proto;
use crate::script::{Lab, Received, Run, Step, Text, Verdict};
use crate::session::{Probe, Reached, Session, TimedOut, Timeouts};

/// The longest pause between two connect attempts to a program not listening yet.
const CONNECT_RETRY_MAX: Duration = Duration::from_millis(4);
/// How often a connect that keeps being refused looks at what listens instead.
const LISTENER_SCAN_EVERY: Duration = Duration::from_millis(200);
/// How long to watch for a second datagram after a line that came without its newline.
const SPLIT_LINE_WINDOW: Duration = Duration::from_millis(100);
/// How much of unmatched output a failure shows.
const GOT_SHOWN_BYTES: usize = 400;

#[derive(Debug, Clone, Default)]
pub struct Config {
    pub timeouts: Timeouts,
    /// What the program may not see (other submissions, results); see [`crate::confine`].
    pub confinement: Confinement,
    /// The least isolation a run may have; below it socklab refuses to grade.
    pub isolation_floor: IsolationFloor,
    pub limits: Limits,
}

/// Grades `program` against `lab`, calling `on_event` with each event as it happens.
pub fn grade(
    lab: Lab,
    program: Program,
    config: Config,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Report> {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(format!("grade {}", lab.name))
        .spawn(move || grade_lab(&lab, &program, &config, &tx))
        .map_err(Error::io("starting a grading thread"))?;
    for event in rx {
        on_event(&event);
    }
    thread
        .join()
        .map_err(|_| Error::Internal("the grading thread panicked".into()))?
}

/// What one run of the program (in its kept argument form) produced.
struct RunResult {
    checks: Vec<CheckResult>,
    summary: RunSummary,
    port: u16,
    isolation: Isolation,
    notices: Vec<String>,
    transcript: Vec<Entry>,
    transcript_omitted: u64,
}

/// An attempt at a run in one form of its arguments.
struct Attempt {
    result: RunResult,
    /// Whether the first check passed (its events then went out as they happened).
    first_passed: bool,
    /// Events held back because the first check failed and another form may do better.
    held: Vec<Event>,
    /// Why the first check failed, for the note when another form is used.
    first_failure: String,
}

fn grade_lab(
    lab: &Lab,
    program: &Program,
    config: &Config,
    events: &mpsc::Sender<Event>,
) -> Result<Report> {
    let started = Instant::now();
    let mut kept: Vec<RunResult> = Vec::new();
    let mut notices = Vec::new();
    for run in &lab.runs {
        let hold = !run.fallbacks.is_empty();
        let first_event = kept.is_empty();
        let earlier: Vec<CheckResult> = kept.iter().flat_map(|r| r.checks.clone()).collect();
        // Each attempt gets a fresh namespace, so a thread of its own.
        let attempt = |args: &[&str], first_event: bool| {
            std::thread::scope(|scope| {
                scope
                    .spawn(|| {
                        attempt_run(
                            lab,
                            run,
                            args,
                            program,
                            config,
                            &earlier,
                            hold,
                            first_event,
                            events,
                        )
                    })
                    .join()
                    .map_err(|_| Error::Internal("a grading thread panicked".into()))?
            })
        };
        // The lesson's form first; other forms only where it fails the run's first check,
        // and only kept where they pass it.
        let lesson = attempt(&run.args, first_event)?;
        let mut chosen = None;
        if !lesson.first_passed {
            for fallback in &run.fallbacks {
                let mut other = attempt(&fallback.args, first_event)?;
                if other.first_passed {
                    let notice = format!(
                        "{}; {}, so this run was graded as `{}`",
                        lesson.first_failure,
                        fallback.why,
                        other.result.summary.program.join(" ")
                    );
                    let _ = events.send(Event::Notice(notice.clone()));
                    other.result.notices.push(notice);
                    chosen = Some(other);
                    break;
                }
            }
        }
        let mut chosen = chosen.unwrap_or_else(|| {
            for event in lesson.held.iter().cloned() {
                let _ = events.send(event);
            }
            lesson
        });
        notices.append(&mut chosen.result.notices);
        kept.push(chosen.result);
    }
    let last = kept
        .last()
        .ok_or_else(|| Error::Internal(format!("lab {} has no runs", lab.name)))?;
    let report = Report {
        lab: lab.name.to_string(),
        program: program.argv.clone(),
        port: kept[0].port,
        isolation: Some(kept[0].isolation.level()),
        notices,
        checks: kept.iter().flat_map(|r| r.checks.clone()).collect(),
        exit: last.summary.exit,
        stopped_by_harness: last.summary.stopped_by_harness,
        stderr_tail: last.summary.stderr_tail.clone(),
        transcript: kept.iter().flat_map(|r| r.transcript.clone()).collect(),
        transcript_omitted: kept.iter().map(|r| r.transcript_omitted).sum(),
        duration: started.elapsed(),
        runs: kept.iter().map(|r| r.summary.clone()).collect(),
    };
    let _ = events.send(Event::Finished(report.clone()));
    Ok(report)
}

/// Events of an attempt: held back until released, then sent as they come.
struct Outbox<'a> {
    held: Option<Vec<Event>>,
    events: &'a mpsc::Sender<Event>,
}

impl Outbox<'_> {
    fn send(&mut self, event: Event, release: bool) {
        match &mut self.held {
            Some(queue) if !release => queue.push(event),
            _ => {
                for event in self.held.take().into_iter().flatten().chain([event]) {
                    let _ = self.events.send(event);
                }
            }
        }
    }
}

/// One run of the program with one form of the lab's arguments, on the calling thread,
/// which enters a fresh namespace for it. With `hold`, events wait until the first check
/// has passed, so that a form given up on leaves no trace in the report.
#[allow(clippy::too_many_arguments)]
fn attempt_run(
    lab: &Lab,
    run: &Run,
    args: &[&str],
    program: &Program,
    config: &Config,
    earlier: &[CheckResult],
    hold: bool,
    first_event: bool,
    events: &mpsc::Sender<Event>,
) -> Result<Attempt> {
    let mut out = Outbox {
        held: Some(Vec::new()),
        events,
    };
    let wanted = Wanted {
        floor: config.isolation_floor,
        proto: lab.proto,
        port: lab.lesson_port,
        fixed_port: !program.takes_port(),
        patience: config.timeouts.step * 2,
        confinement: &config.confinement,
    };
    let (place, placed) = Place::set_up(&wanted, program)?;
    let isolation = place.isolation.clone();
    let mut notices = Vec::new();
    if let Some(reason) = isolation.reason()
        && first_event
    {
        // Once per process on stderr, however many runs and attempts follow.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            eprintln!(
                "socklab: {reason}: grading on the host's loopback ({} isolation)",
                isolation.level()
            )
        });
    }
    notices.extend(place.notices.iter().cloned());
    let port = if program.takes_port() {
        portpicker::pick_unused_port().ok_or_else(|| Error::Internal("no free port".into()))?
    } else {
        lab.lesson_port
    };
    let limits = RunLimits::set_up(
        config.limits,
        isolation.sandbox_user().is_some(),
        // Under uid isolation init forks a helper to kill the program's every process.
        u32::from(isolation.sandbox_user().is_some()),
    );
    if isolation.level() != IsolationLevel::None {
        notices.extend(limits.notice());
    }
    let enclosure = Enclosure {
        pid_namespace: !isolation.on_host(),
        user: isolation.sandbox_user(),
        rlimits: limits.rlimits(),
        cgroups: limits.join_fds(),
        confinement: if isolation.on_host() {
            Confinement::default()
        } else {
            config.confinement.clone()
        },
        home: place.home.clone(),
        cwd: place.cwd.clone(),
    };
    let bob = isolation.hosts().bob.to_string();
    let given = program;
    let program = placed.with_args(args.iter().map(|a| a.replace("{bob}", &bob)));

    let mut session = Session::new(isolation.clone(), port, config.timeouts, limits);
    for step in &run.setup {
        run_step(&mut session, step)
            .map_err(|f| Error::Internal(format!("preparing the lab: {}", f.message)))?;
    }
    session.launch(&program, &enclosure).map_err(Error::io(
        "starting socklab's init (its own binary, /proc/self/exe)",
    ))?;
    let shown_argv = program.args_for(port);
    if first_event {
        out.send(
            Event::Started {
                lab: lab.name.to_string(),
                program: given.argv.clone(),
                port,
                isolation: isolation.level(),
            },
            false,
        );
        for notice in &notices {
            out.send(Event::Notice(notice.clone()), false);
        }
    }
    if !run.name.is_empty() {
        out.send(
            Event::RunStarted {
                name: run.name.to_string(),
                program: shown_argv.clone(),
            },
            false,
        );
    }

    let mut results: Vec<CheckResult> = Vec::new();
    let mut first_failure = String::new();
    for (index, check) in run.checks.iter().enumerate() {
        let began = Instant::now();
        let mark = session.transcript().len();
        let unmet = check.needs.iter().find(|id| {
            !earlier
                .iter()
                .chain(&results)
                .any(|r| r.id == **id && r.passed())
        });
        let outcome = if let Some(unmet) = unmet {
            Outcome::NotReached {
                reason: format!("needs '{unmet}', which did not pass"),
            }
        } else {
            let gone_before = session.exit.is_some();
            let steps = check.steps.iter().try_for_each(|scripted| {
                run_step(&mut session, &scripted.step).map_err(|mut failure| {
                    // A hint explains a mistake, not a crash.
                    if let Some(hint) = scripted.hint.filter(|_| !failure.program_gone) {
                        failure.message = format!("{}\n{hint}", failure.message);
                    }
                    failure
                })
            });
            // A program that ran into a limit fails for that reason first.
            let steps = steps.map_err(|mut failure| {
                if let Some(limit) = session.limit_hit() {
                    failure.message = format!("{limit}; {}", failure.message);
                }
                failure
            });
            match steps {
                Ok(()) => Outcome::Passed,
                Err(failure) if failure.program_gone && gone_before => Outcome::NotReached {
                    reason: format!("{} before this check", session.how_program_ended_briefly()),
                },
                Err(failure) => Outcome::Failed(failure),
            }
        };
        let passed = matches!(outcome, Outcome::Passed);
        if index == 0 && !passed {
            let why = if session.exit.is_some() {
                session.how_program_ended_briefly()
            } else {
                match &outcome {
                    Outcome::Failed(f) => f.message.lines().next().unwrap_or_default().to_string(),
                    Outcome::NotReached { reason } => reason.clone(),
                    Outcome::Passed => String::new(),
                }
            };
            first_failure = format!("`{}` did not work: {why}", shown_argv.join(" "));
            if session.exit.is_some() && !run.name.is_empty() {
                // Say plainly which of the lesson's commands this program cannot run.
                let notice = format!("`{}` ended at once: {why}", shown_argv.join(" "));
                out.send(Event::Notice(notice.clone()), false);
                notices.push(notice);
            }
        }
        // Held events go out once the first check has passed (or at once without `hold`).
        let release = !hold || (index == 0 && passed) || out.held.is_none();
        let result = CheckResult {
            id: check.id.to_string(),
            description: check.description.to_string(),
            points: if passed { check.points } else { 0 },
            max: check.points,
            transcript: match outcome {
                Outcome::Failed(_) => session.transcript()[mark..].to_vec(),
                _ => Vec::new(),
            },
            outcome,
            duration: began.elapsed(),
        };
        out.send(Event::CheckFinished(result.clone()), release);
        results.push(result);
    }

    session.finish();
    for notice in &session.notices {
        out.send(Event::Notice(notice.clone()), true);
        notices.push(notice.clone());
    }
    let mut transcript = session.transcript().to_vec();
    if !run.name.is_empty() {
        transcript.insert(
            0,
            Entry {
                at: Duration::ZERO,
                who: "harness".into(),
                text: format!("run '{}': {}", run.name, shown_argv.join(" ")),
            },
        );
    }
    let first_passed = results.first().is_some_and(CheckResult::passed);
    Ok(Attempt {
        first_passed,
        held: out.held.take().unwrap_or_default(),
        first_failure,
        result: RunResult {
            checks: results,
            summary: RunSummary {
                name: run.name.to_string(),
                program: shown_argv,
                exit: session.exit,
                stopped_by_harness: session.stopped_by_harness,
                stderr_tail: session.stderr_tail(20),
            },
            port,
            isolation,
            notices,
            transcript,
            transcript_omitted: session.transcript_omitted(),
        },
    })
}

/// Fills in `{port}`, `{alice.port}`, `{alice.ip}` from the session.
fn expand(session: &Session, template: &str) -> String {
    let mut out = template.replace("{port}", &session.port.to_string());
    while let Some(open) = out.find('{') {
        let Some(len) = out[open..].find('}') else {
            break;
        };
        let var = &out[open + 1..open + len];
        let value = var.split_once('.').and_then(|(peer, field)| {
            let addr = session.peer_local_addr(peer)?;
            match field {
                "port" => Some(addr.port().to_string()),
                "ip" => Some(addr.ip().to_string()),
                _ => None,
            }
        });
        let Some(value) = value else { break };
        out.replace_range(open..open + len + 1, &value);
    }
    out
}

/// The end of `data`, escaped, for a failure's "got".
fn shown(data: &[u8]) -> String {
    if data.is_empty() {
        return "nothing".into();
    }
    if data.len() <= GOT_SHOWN_BYTES {
        return escape::python_bytes(data);
    }
    let tail = &data[data.len() - GOT_SHOWN_BYTES..];
    format!(
        "… {} (the last {} of {} bytes)",
        escape::python_bytes(tail),
        GOT_SHOWN_BYTES,
        data.len()
    )
}

fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// The failure of a step that could not go on because the program is gone.
fn program_gone(session: &mut Session, expected: String, got: String) -> Failure {
    session.settle_exit();
    Failure {
        expected,
        got,
        message: session.how_program_ended(),
        waited: None,
        program_gone: true,
    }
}

fn run_step(s: &mut Session, step: &Step) -> Result<(), Failure> {
    match step {
        Step::Listen(peer) => s.listen(peer).map_err(|e| Failure {
            expected: format!("to listen on port {}", s.port),
            got: e.to_string(),
            message: format!("the harness could not listen on port {}: {e}", s.port),
            ..Failure::default()
        }),
        Step::Connect(peer) => connect(s, peer),
        Step::Accept(peer) => accept(s, peer),
        Step::Send(peer, data) => {
            let sent = s.send(peer, data);
            sent.map_err(|message| Failure {
                expected: format!("{peer} to send {}", escape::python_bytes(data)),
                got: "the connection was closed".into(),
                message,
                ..Failure::default()
            })
        }
        Step::TypeLine(line) => {
            let expected = format!("to type {line:?} on the program's keyboard");
            if s.screen_closed() {
                return Err(program_gone(s, expected, "the terminal is closed".into()));
            }
            let typed = s.type_bytes(format!("{line}\n").as_bytes());
            typed.map_err(|message| Failure {
                expected,
                got: "the keyboard was not read".into(),
                message,
                ..Failure::default()
            })
        }
        Step::HangUp(peer) => {
            s.hang_up(peer);
            Ok(())
        }
        Step::Prints(text) => prints_on(s, text, Stream::Screen),
        Step::Receives(peer, expected) => receives(s, peer, expected),
        Step::SeesEndOfStream(peer) => sees_end_of_stream(s, peer),
        Step::Reachable => reachable(s),
        Step::BindsUdp => binds_udp(s),
        Step::SendDatagram(peer, data) => {
            let (from, to) = datagram_route(s);
            s.send_datagram(peer, from, to, data).map_err(|e| Failure {
                expected: format!("{peer} to send a datagram to {to}"),
                got: e.to_string(),
                message: format!("{peer} could not send to {to}: {e}"),
                ..Failure::default()
            })
        }
        Step::ReceivesDatagram(peer, want) => receives_datagram(s, peer, want),
        Step::StopsAtEndOfInput => stops_at_end_of_input(s),
        Step::BindUdp(peer) => s.bind_datagrams(peer).map_err(|e| Failure {
            expected: format!("to bind UDP port {}", s.port),
            got: e.to_string(),
            message: format!("the harness could not bind UDP port {}: {e}", s.port),
            ..Failure::default()
        }),
        Step::ReplyDatagram(peer, data) => {
            let to = s.datagrams_mut(peer).and_then(|d| d.last_sender);
            let Some(to) = to else {
                return Err(Failure {
                    expected: format!("a datagram from the program for {peer} to answer"),
                    got: "none".into(),
                    message: format!("the program sent {peer} nothing to answer"),
                    ..Failure::default()
                });
            };
            let from = s
                .peer_local_addr(peer)
                .map(|a| a.ip())
                .unwrap_or(Ipv4Addr::UNSPECIFIED.into());
            s.send_datagram(peer, from, to, data).map_err(|e| Failure {
                expected: format!("{peer} to answer {to}"),
                got: e.to_string(),
                message: format!("{peer} could not send to {to}: {e}"),
                ..Failure::default()
            })
        }
        Step::PrintsOnStderr(text) => prints_on(s, text, Stream::Stderr),
        Step::ExitsWith(status) => exits_with(s, *status),
    }
}

fn connect(s: &mut Session, peer: &'static str) -> Result<(), Failure> {
    let hosts = s.hosts;
    let bob = SocketAddr::from((hosts.bob, s.port));
    let expected = format!(
        "a TCP listener on port {} that {peer} can connect to",
        s.port
    );
    let mut backoff = Duration::from_millis(1);
    let mut next_scan = Instant::now();
    let result = s.wait_for(|s, _last| {
        if s.program_ended() {
            return Probe::Failed(program_gone(s, expected.clone(), "no listener".into()));
        }
        let mut attempt = s.try_connect(peer, hosts.alice.into(), bob);
        if let Ok(Some(())) = attempt {
            s.reached = Some(reached_at_bob(s));
        } else if Instant::now() >= next_scan {
            // Reading /proc costs milliseconds, so look now and then, not every retry.
            next_scan = Instant::now() + LISTENER_SCAN_EVERY;
            let listening = s.listening_elsewhere();
            // A program listening elsewhere has started: it gets no start-up allowance.
            s.note_life_from_listeners(&listening);
            // Listening on the port, but only on one address (127.0.0.1, usually): go on
            // there so that the other checks still count; `reachable` will say why.
            if let Some(only) = listening
                .iter()
                .find(|l| l.proto == Proto::Tcp && l.port == s.port && !l.addr.is_unspecified())
            {
                let from = if only.addr.is_loopback() {
                    only.addr
                } else {
                    hosts.alice.into()
                };
                attempt = s.try_connect(peer, from, SocketAddr::new(only.addr, s.port));
                if let Ok(Some(())) = attempt {
                    s.reached = Some(Reached {
                        at: only.addr,
                        from_other_hosts: false,
                    });
                    s.note(
                        "harness",
                        format!(
                            "the program listens on {} only, not where bob's address {} reaches it",
                            only.addr, hosts.bob
                        ),
                    );
                }
            }
        }
        match attempt {
            Ok(Some(())) => Probe::Ready(()),
            Ok(None) => {
                // Nothing tells us when a program starts listening, and a refused connect
                // on loopback costs microseconds: retry soon.
                backoff = (backoff * 2).min(CONNECT_RETRY_MAX);
                Probe::RetryAt(Instant::now() + backoff)
            }
            Err(e) => Probe::Failed(Failure {
                expected: expected.clone(),
                got: e.to_string(),
                message: format!("{peer} could not connect: {e}"),
                ..Failure::default()
            }),
        }
    });
    result.unwrap_or_else(|TimedOut { waited }| {
        Err(nothing_listens(s, Proto::Tcp, expected.clone(), waited))
    })
}

/// The failure of a wait for the program to listen: where it listens instead, if anywhere.
fn nothing_listens(s: &Session, proto: Proto, expected: String, waited: Duration) -> Failure {
    let listens: Vec<String> = s
        .listening_elsewhere()
        .iter()
        .map(|l| format!("{} {}", l.proto, l.port))
        .collect();
    let got = if listens.is_empty() {
        "nothing listening".to_string()
    } else {
        format!("the program listens on {}", listens.join(", "))
    };
    let verb = match proto {
        Proto::Tcp => "listens on",
        Proto::Udp => "is bound to",
    };
    let message = if listens.is_empty() {
        format!(
            "nothing {verb} {proto} {} after {}, and your program listens on no port (did it call bind(){}?)",
            s.port,
            seconds(waited),
            if proto == Proto::Tcp {
                " and listen()"
            } else {
                ""
            }
        )
    } else {
        format!(
            "nothing {verb} {proto} {}; your program listens on {}",
            s.port,
            listens.join(", ")
        )
    };
    Failure {
        expected,
        got,
        message,
        waited: Some(waited),
        program_gone: false,
    }
}

/// Where a server program was reached at Bob's address: in a namespace, only a program
/// bound to all addresses answers there, so another host could reach it; on the host,
/// where Bob is 127.0.0.1 too, its socket says whether it bound all addresses.
fn reached_at_bob(s: &Session) -> Reached {
    let bob = IpAddr::V4(s.hosts.bob);
    let from_other_hosts = !s.isolation.on_host()
        || s.listening()
            .iter()
            .filter(|l| l.port == s.port)
            .any(|l| l.addr.is_unspecified() || !l.addr.is_loopback());
    let at = match s.listening().iter().find(|l| l.port == s.port) {
        Some(l) if s.isolation.on_host() && !l.addr.is_unspecified() => l.addr,
        _ => bob,
    };
    Reached {
        at,
        from_other_hosts,
    }
}

/// The program can be reached at Bob's address, as from another host.
fn reachable(s: &mut Session) -> Result<(), Failure> {
    let bob = s.hosts.bob;
    match s.reached {
        Some(Reached {
            from_other_hosts: true,
            ..
        }) => Ok(()),
        Some(Reached { at, .. }) => Err(Failure {
            expected: format!(
                "the program reachable at bob's address {bob}, port {}",
                s.port
            ),
            got: format!("it listens on {at} only"),
            message: format!(
                "bound to {at}: only this host can connect; bind 0.0.0.0 as in the lesson (the other checks went on over {at})"
            ),
            ..Failure::default()
        }),
        None => Err(Failure {
            expected: format!("the program reachable at bob's address {bob}"),
            got: "it was never reached".into(),
            message: "the harness never reached the program".into(),
            ..Failure::default()
        }),
    }
}

/// Waits until the program has a UDP socket bound to the port, and notes where it can be
/// reached.
fn binds_udp(s: &mut Session) -> Result<(), Failure> {
    let expected = format!("a UDP socket bound to port {}", s.port);
    let mut backoff = Duration::from_millis(1);
    let result = s.wait_for(|s, _| {
        if s.program_ended() {
            return Probe::Failed(program_gone(s, expected.clone(), "no UDP socket".into()));
        }
        let listening = s.listening_elsewhere();
        s.note_life_from_listeners(&listening);
        let bound = listening
            .iter()
            .find(|l| l.proto == Proto::Udp && l.port == s.port);
        match bound {
            Some(l) => {
                let at: IpAddr = if l.addr.is_unspecified() {
                    s.hosts.bob.into()
                } else {
                    l.addr
                };
                // In a namespace Bob's address is not loopback; on the host, one bound to
                // 127.0.0.1 only is what another host could not reach.
                let from_other_hosts = l.addr.is_unspecified() || !l.addr.is_loopback();
                s.reached = Some(Reached {
                    at,
                    from_other_hosts,
                });
                Probe::Ready(())
            }
            None => {
                // Nothing tells us when a program binds: look again soon (each look reads
                // /proc, so back off to a few milliseconds).
                backoff = (backoff * 2).min(Duration::from_millis(16));
                Probe::RetryAt(Instant::now() + backoff)
            }
        }
    });
    result.unwrap_or_else(|TimedOut { waited }| {
        let mut failure = nothing_listens(s, Proto::Udp, expected.clone(), waited);
        if s
            .listening_elsewhere()
            .iter()
            .any(|l| l.proto == Proto::Tcp && l.port == s.port)
        {
            failure.message = format!(
                "nothing receives on UDP {port}; a TCP listener is on {port}: the socket should be socket(AF_INET, SOCK_DGRAM)",
                port = s.port
            );
        }
        Err(failure)
    })
}

/// Where datagrams for the program go, and from which of the harness's addresses.
fn datagram_route(s: &Session) -> (IpAddr, SocketAddr) {
    let at = s.reached.map_or(s.hosts.bob.into(), |r| r.at);
    let from = if at.is_loopback() {
        at
    } else {
        s.hosts.alice.into()
    };
    (from, SocketAddr::new(at, s.port))
}

fn receives_datagram(s: &mut Session, peer: &'static str, want: &Received) -> Result<(), Failure> {
    let expected = format!("one datagram holding {}", want.describe());
    let result = s.wait_for(|s, _| {
        let server_port = s.port;
        let Some(inbox) = s.datagrams_mut(peer) else {
            return Probe::Failed(Failure {
                expected: expected.clone(),
                got: "nothing".into(),
                message: format!("{peer} has sent nothing the program could answer"),
                ..Failure::default()
            });
        };
        let Some((from, data)) = inbox.inbox.pop_front() else {
            if s.program_ended() {
                return Probe::Failed(program_gone(s, expected.clone(), "nothing".into()));
            }
            return Probe::Pending;
        };
        // A server answers from its own port: `nc -u HOST 9000` has connected its socket
        // there and drops datagrams from anywhere else.
        let from_server_expected = inbox.local.port() != server_port;
        match want.judge(&data, true) {
            Verdict::Matched(_) if from_server_expected && from.port() != server_port => {
                Probe::Failed(Failure {
                    expected: format!("{expected}, from port {server_port}"),
                    got: format!("{} from port {}", escape::python_bytes(&data), from.port()),
                    message: format!(
                        "the answer came from port {}, not {server_port}: a client such as nc -u, connected to port {server_port}, drops it; send with the socket bound to {server_port}",
                        from.port()
                    ),
                    ..Failure::default()
                })
            }
            Verdict::Matched(_) => Probe::Ready(data),
            _ => {
                let message = if want.awaited().starts_with(&data) && !data.is_empty() {
                    format!("{peer} received only part of the line in one datagram: send the whole line in one sendto()")
                } else {
                    format!("{peer} received a different datagram")
                };
                Probe::Failed(Failure {
                    expected: expected.clone(),
                    got: escape::python_bytes(&data),
                    message,
                    ..Failure::default()
                })
            }
        }
    });
    let data = match result {
        Ok(Ok(data)) => data,
        Ok(Err(failure)) => return Err(failure),
        Err(TimedOut { waited }) => return Err(no_datagram(s, peer, &expected, waited)),
    };
    // One line, one datagram: anything queued behind it came with it. A line sent without
    // its newline may be followed by the newline in a datagram of its own, so watch a
    // moment for one, and the check that got the line is the one to fail.
    if !data.ends_with(b"\n") {
        s.watch_for(SPLIT_LINE_WINDOW, |s| {
            s.datagrams(peer).is_some_and(|d| !d.inbox.is_empty())
        });
    }
    if let Some((_, extra)) = s.datagrams_mut(peer).and_then(|d| d.inbox.pop_front()) {
        return Err(Failure {
            expected,
            got: format!(
                "{} and then {}",
                escape::python_bytes(&data),
                escape::python_bytes(&extra)
            ),
            message: "the line came as more than one datagram: send it in one sendto()".into(),
            ..Failure::default()
        });
    }
    Ok(())
}

fn no_datagram(s: &Session, peer: &str, expected: &str, waited: Duration) -> Failure {
    let local = s.peer_local_addr(peer);
    Failure {
        expected: expected.to_string(),
        got: "nothing".into(),
        message: format!(
            "no datagram reached {peer}{} within {}",
            local.map(|a| format!(" at {a}")).unwrap_or_default(),
            seconds(waited)
        ),
        waited: Some(waited),
        program_gone: false,
    }
}

/// End of input on the keyboard (^D); if the program goes on, Ctrl-C. It passes if either
/// ends the program within the deadline.
fn stops_at_end_of_input(s: &mut Session) -> Result<(), Failure> {
    let expected = "the program to end on end of input (^D) or Ctrl-C".to_string();
    if s.program_ended() {
        return Err(program_gone(s, expected, "it had ended already".into()));
    }
    for (key, name) in [(b"\x04", "^D (end of input)"), (b"\x03", "Ctrl-C")] {
        if s.program_ended() {
            break;
        }
        s.note("harness", format!("presses {name}"));
        let _ = s.type_bytes(key);
        let ended = s.wait_for(|s, _| {
            if s.exit.is_some() {
                Probe::Ready(())
            } else {
                Probe::Pending
            }
        });
        if ended.is_ok() {
            return Ok(());
        }
    }
    s.settle_exit();
    if s.program_ended() {
        return Ok(());
    }
    Err(Failure {
        expected,
        got: "still running".into(),
        message: format!(
            "the program went on after ^D and Ctrl-C ({} each)",
            seconds(s.timeouts.step)
        ),
        waited: Some(s.timeouts.step * 2),
        program_gone: false,
    })
}

fn accept(s: &mut Session, peer: &'static str) -> Result<(), Failure> {
    let expected = format!("the program to connect to port {}", s.port);
    let result = s.wait_for(|s, _| {
        if s.connection(peer).is_some() {
            Probe::Ready(())
        } else if s.program_ended() {
            Probe::Failed(program_gone(s, expected.clone(), "no connection".into()))
        } else {
            Probe::Pending
        }
    });
    result.unwrap_or_else(|TimedOut { waited }| {
        Err(Failure {
            expected: expected.clone(),
            got: "no connection".into(),
            message: format!(
                "nothing connected to port {} within {}; is the program connecting to 127.0.0.1 port {}?",
                s.port,
                seconds(waited),
                s.port
            ),
            waited: Some(waited),
            program_gone: false,
        })
    })
}

/// Where a program shows text.
#[derive(Clone, Copy)]
enum Stream {
    Screen,
    Stderr,
}

impl Stream {
    fn inbox(self, s: &mut Session) -> &mut crate::session::Inbox {
        match self {
            Stream::Screen => &mut s.screen,
            Stream::Stderr => &mut s.stderr,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Stream::Screen => "print",
            Stream::Stderr => "print on stderr",
        }
    }
}

fn prints_on(s: &mut Session, text: &Text, stream: Stream) -> Result<(), Failure> {
    let parts: Vec<String> = match text {
        Text::LineWith(parts) => parts.iter().map(|p| expand(s, p)).collect(),
        Text::Printed(_) | Text::Raw(_) => Vec::new(),
    };
    let expected = text.describe(&parts);
    let result = s.wait_for(|s, _| {
        let inbox = stream.inbox(s);
        if let Some(end) = text.find(inbox.unmatched(), &parts) {
            inbox.consume(end);
            Probe::Ready(())
        } else if inbox.ended() {
            let got = shown(inbox.unmatched());
            Probe::Failed(program_gone(s, expected.clone(), got))
        } else {
            Probe::Pending
        }
    });
    result.unwrap_or_else(|TimedOut { waited }| {
        let unmatched = stream.inbox(s).unmatched();
        let message = if unmatched.is_empty() {
            format!(
                "the program did not {} anything within {}",
                stream.name(),
                seconds(waited)
            )
        } else {
            format!(
                "the program did not {} it within {}",
                stream.name(),
                seconds(waited)
            )
        };
        Err(Failure {
            expected: expected.clone(),
            got: shown(unmatched),
            message,
            waited: Some(waited),
            program_gone: false,
        })
    })
}

fn receives(s: &mut Session, peer: &'static str, want: &Received) -> Result<(), Failure> {
    let expected = want.describe();
    let result = s.wait_for(|s, last| {
        let Some(conn) = s.connection_mut(peer) else {
            return Probe::Failed(Failure {
                expected: expected.clone(),
                got: "no connection".into(),
                message: format!("{peer} has no connection to receive on"),
                ..Failure::default()
            });
        };
        let got = conn.inbox.unmatched();
        match want.judge(got, conn.inbox.ended()) {
            Verdict::Matched(n) => {
                conn.inbox.consume(n);
                Probe::Ready(())
            }
            Verdict::MatchedUnlessMore(n) if last => {
                conn.inbox.consume(n);
                Probe::Ready(())
            }
            // Wrong already, but keep reading until what was awaited comes too (or the
            // stream ends, or time is up), so the failure shows it all and the next check
            // does not meet these bytes again.
            Verdict::Wrong
                if !last
                    && !conn.inbox.ended()
                    && crate::script::find_bytes(got, want.awaited()).is_none() =>
            {
                Probe::Pending
            }
            Verdict::Wrong => {
                let ended = conn.inbox.ended();
                let got = shown(got);
                // Judged and reported here; later checks must not blame the same bytes.
                let all = conn.inbox.unmatched().len();
                conn.inbox.consume(all);
                let message = if ended && !got.is_empty() {
                    format!("{peer} received other bytes, then the connection ended")
                } else if ended {
                    format!("the connection ended before {peer} received it")
                } else {
                    format!("{peer} received other bytes")
                };
                Probe::Failed(Failure {
                    expected: expected.clone(),
                    got,
                    message,
                    ..Failure::default()
                })
            }
            Verdict::Incomplete | Verdict::MatchedUnlessMore(_) => Probe::Pending,
        }
    });
    result.unwrap_or_else(|TimedOut { waited }| {
        let wrong = s.connection(peer).is_some_and(|c| {
            !c.inbox.unmatched().is_empty()
                && want.judge(c.inbox.unmatched(), false) == Verdict::Wrong
        });
        let got = match s.connection_mut(peer) {
            Some(conn) => {
                let got = shown(conn.inbox.unmatched());
                let all = conn.inbox.unmatched().len();
                conn.inbox.consume(all);
                got
            }
            None => "no connection".into(),
        };
        let message = if got == "nothing" {
            format!("nothing reached {peer} within {}", seconds(waited))
        } else if wrong {
            format!("{peer} received other bytes")
        } else {
            format!("only part of it reached {peer} within {}", seconds(waited))
        };
        Err(Failure {
            expected: expected.clone(),
            got,
            message,
            waited: Some(waited),
            program_gone: false,
        })
    })
}

fn sees_end_of_stream(s: &mut Session, peer: &'static str) -> Result<(), Failure> {
    let expected = "end of stream (the program closes the connection)".to_string();
    let result = s.wait_for(|s, _| {
        let Some(conn) = s.connection(peer) else {
            return Probe::Failed(Failure {
                expected: expected.clone(),
                got: "no connection".into(),
                message: format!("{peer} has no connection"),
                ..Failure::default()
            });
        };
        let extra = conn.inbox.unmatched();
        if !extra.is_empty() {
            Probe::Failed(Failure {
                expected: expected.clone(),
                got: shown(extra),
                message: format!("the program sent more bytes to {peer} than it should"),
                ..Failure::default()
            })
        } else if conn.inbox.ended() {
            Probe::Ready(())
        } else {
            Probe::Pending
        }
    });
    result.unwrap_or_else(|TimedOut { waited }| {
        Err(Failure {
            expected: expected.clone(),
            got: "the connection still open".into(),
            message: format!(
                "the connection was still open after {}: the program did not close it",
                seconds(waited)
            ),
            waited: Some(waited),
            program_gone: false,
        })
    })
}

fn exits_with(s: &mut Session, status: i32) -> Result<(), Failure> {
    let expected = format!("the program to exit with status {status}");
    let screen_before = s.screen.total();
    let result = s.wait_for(|s, _| match s.exit {
        Some(exit) if exit == crate::report::ProgramExit::Exited(status) => Probe::Ready(()),
        Some(exit) => Probe::Failed(Failure {
            expected: expected.clone(),
            got: format!("exited with {exit}"),
            message: s.how_program_ended(),
            ..Failure::default()
        }),
        None => Probe::Pending,
    });
    result.unwrap_or_else(|TimedOut { waited }| {
        let printed_bytes = s.screen.total() - screen_before;
        let mut message = format!("the program was still running after {}", seconds(waited));
        if printed_bytes > 0 {
            let tail = s.screen.tail();
            let tail = &tail[tail.len().saturating_sub((printed_bytes as usize).min(40))..];
            message.push_str(&format!(
                ", printing {printed_bytes} bytes meanwhile, ending {}",
                escape::python_bytes(tail)
            ));
        }
        Err(Failure {
            expected: expected.clone(),
            got: "still running".into(),
            message,
            waited: Some(waited),
            program_gone: false,
        })
    })
}
