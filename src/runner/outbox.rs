//! An attempt's events on their way to the caller: held while the attempt may still be
//! given up for another form of its run's arguments (so that a form given up on leaves no
//! trace in the report), then sent as they come.

use std::sync::mpsc::Sender;

use crate::report::Event;

pub struct Outbox<'a> {
    events: &'a Sender<Event>,
    /// Events held back, while the attempt holds them.
    held: Option<Vec<Event>>,
}

impl<'a> Outbox<'a> {
    /// An outbox that holds its events until released (`hold`), or sends them at once.
    pub fn new(events: &'a Sender<Event>, hold: bool) -> Outbox<'a> {
        Outbox {
            events,
            held: hold.then(Vec::new),
        }
    }

    pub fn send(&mut self, event: Event) {
        match &mut self.held {
            Some(held) => held.push(event),
            // The caller gone (its reporter failed) stops nothing: the grading ends anyway.
            None => {
                let _ = self.events.send(event);
            }
        }
    }

    /// Sends what was held, and from now on every event as it comes.
    pub fn release(&mut self) {
        for event in self.held.take().into_iter().flatten() {
            let _ = self.events.send(event);
        }
    }
}
