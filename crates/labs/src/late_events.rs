//! The late-events lab's words: the situation, the questions an interviewer
//! asks about it, and model answers. The stream and the windowed query live
//! in `lakelab-stream`; the lab page drives them.

use crate::cdc::Prompt;

pub const ID: &str = "late-events";
pub const TITLE: &str = "Late-arriving events";

pub const STORY: &str = "A mobile app reports what its users do, and a dashboard shows the counts \
per hour. Phones go through tunnels and flight mode: most events arrive within seconds, some \
minutes later, a few after hours offline, and a handful after a day or never; SDKs retry, so some \
arrive twice. The stream below is generated with those delays. A streaming query counts it per \
event-time window under a watermark, and every window is compared with a batch query over every \
event, so you can see exactly what the watermark kept, what it threw away, and what that bought \
in state.";

pub const PROMPTS: [Prompt; 6] = [
    Prompt {
        question: "What is a watermark, precisely, and when does it move?",
        try_this: "Step a few batches and watch the dashed line on the timeline: it trails the \
                   newest event time by the delay and only moves after a batch.",
        answer: "It is the largest event time the query has seen minus the delay you allow. Spark \
                 computes it at the end of a micro-batch and applies it from the next one, and it \
                 never goes back. Everything the stateful operators do with time (dropping late \
                 rows, closing and evicting windows, emitting in append mode) is decided against \
                 it, not against the wall clock.",
    },
    Prompt {
        question: "Is an event older than the watermark always dropped?",
        try_this: "Turn deduplication off, then look for red points just below the line whose \
                   window was still open.",
        answer: "No. An aggregation drops a row only when the window it falls in has already \
                 closed (window end at or before the watermark), so a slightly late row can still \
                 count. Spark only guarantees that data within the delay is kept; beyond it, the \
                 row may or may not be. Deduplication is stricter: it drops by the event time \
                 itself, because it has already forgotten the ids below the watermark.",
    },
    Prompt {
        question: "Append, update or complete: which for an hourly dashboard backed by Delta?",
        try_this: "Run the same stream in each mode and compare the rows written per batch and \
                   when an hour first appears.",
        answer: "Update, merged into Delta on (window, key): hours appear at once and are \
                 corrected as late data arrives, and state stays bounded by the watermark. Append \
                 writes each hour once, but only after the watermark has passed its end, so the \
                 dashboard lags by window plus delay. Complete rewrites everything every batch and \
                 keeps all state forever: fine for a small result, not for months of hours.",
    },
    Prompt {
        question: "How do you choose the watermark delay?",
        try_this: "Press “Measure accuracy against the delay”: each point is a full re-run.",
        answer: "From the lateness you measure, not a guess: plot the share of events kept \
                 against the delay and the state it costs, pick the knee that meets the accuracy \
                 the business needs, and monitor numRowsDroppedByWatermark so a change in device \
                 behaviour is noticed. Whatever lies beyond the delay is recovered by a batch \
                 correction, not by a longer watermark.",
    },
    Prompt {
        question: "One device's clock is a year ahead. What happens?",
        try_this: "Add a future-clock device, untick the quarantine, and run: accuracy collapses.",
        answer: "Its event pushes the maximum event time, so the watermark jumps a year ahead and \
                 every honest event after it is older than the watermark and dropped. Guard the \
                 input: reject or quarantine event times too far past the arrival time, with the \
                 reason, and alert on the quarantine's growth.",
    },
    Prompt {
        question: "The dashboard must be fast and the finance report exact. One pipeline?",
        try_this: "Run the fast and slow paths and read the reconciliation table.",
        answer: "Two outputs of one stream: a fast path with small windows and a short watermark \
                 for the live view, and a slow path with a long watermark whose results become \
                 final. Reconcile them per hour and alert when they disagree by more than a \
                 threshold; anything later than even the slow path is fixed by a scheduled batch \
                 recomputation of the affected hours from Bronze.",
    },
];

pub const MODEL_ANSWER: &str = "Aggregate on event time, never on arrival time. Declare a \
watermark sized from measured lateness (here two hours covers nearly every event), deduplicate on \
the event id within it, and group by a one-hour window and the dimensions. Write in update mode \
with a MERGE keyed on window and dimensions, so hours appear immediately and are corrected as \
stragglers arrive, and mark an hour final once the watermark has passed its end. Quarantine events \
with missing or impossible timestamps so one bad clock cannot drag the watermark. Track rows \
dropped by the watermark and state size per batch. Serve a fast path for freshness and a slow \
path for correctness, reconcile them, and recompute from Bronze whatever arrives later than any \
watermark.";
