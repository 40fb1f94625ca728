//! The cost lab's words: its story, the interviewer's questions and a
//! model answer. The numbers it talks about are computed on the page.

use crate::cdc::Prompt;

pub const ID: &str = "cost";
pub const TITLE: &str = "Cost comparisons";

pub const STORY: &str = "Interviews end with money: is streaming worth it, would a job every five \
minutes do, does Photon pay for itself, what does the slow report cost before and after the fix? \
Here the answers are computed, not recited. The work is what this tab measured — the CDC \
pipeline's processing time per change event and the slow-query ladder's scans — scaled to the \
scenarios' sizes, and each option runs a simulated day on a simulated cluster that starts up, \
bills by the second, autoscales on its backlog and loses spot workers.";

pub const PROMPTS: [Prompt; 5] = [
    Prompt {
        question: "The pipeline must land changes within 10 minutes. Continuous streaming or \
                   availableNow on a schedule?",
        try_this: "Compare the always-on cluster with availableNow every 5 minutes and hourly: \
                   cost per day against worst latency, and where the break-even interval lies.",
        answer: "A scheduled availableNow job pays start-up on every run but nothing while the \
                 cluster is down. When runs are far apart it is much cheaper; as the interval \
                 shrinks towards the start-up time the cluster never gets to shut down and it \
                 costs as much as streaming while waiting longer. Below the break-even interval \
                 keep one cluster running; above it, schedule runs — and check the worst latency \
                 (interval + start-up + processing), not only the average.",
    },
    Prompt {
        question: "Why autoscale a streaming cluster on consumer lag rather than on CPU?",
        try_this: "Look at the autoscaling option's day: the backlog during the burst, the \
                   workers added after their delay, and the slow scale-down.",
        answer: "Lag is the thing the service promises about: it grows exactly when input outruns \
                 processing, whatever the CPU says. Sizing for the peak wastes money for the \
                 other 23 hours; sizing for the average falls behind during bursts. Scaling on \
                 lag pays for the burst only while it lasts, at the cost of some minutes of extra \
                 latency while new workers boot.",
    },
    Prompt {
        question: "Photon is said to be 2–3× faster. Is it cheaper?",
        try_this: "Compare the autoscaling option with and without Photon, and read the \
                   sensitivity of each to the speed-up.",
        answer: "Photon bills more per hour, so it is cheaper only when the work shrinks by more \
                 than the premium: for scan- and aggregation-heavy work at a real 2× or better it \
                 usually is; for a cluster kept up by a small stream, or work dominated by \
                 fixed overheads it cannot speed up, it is not. Measure the speed-up on your own \
                 queries before switching everything.",
    },
    Prompt {
        question: "Spot instances cut the VM bill. What do they cost you?",
        try_this: "Compare the half-on-spot option with the on-demand one: VM cost, \
                   interruptions, latency.",
        answer: "Interruptions: a lost worker's share of the running batch is redone and a \
                 replacement takes minutes. Keep the driver on demand, put only part of the \
                 workers on spot, and make the job idempotent (Delta txn, checkpoints) so a lost \
                 worker costs time, never correctness.",
    },
    Prompt {
        question: "What did making the slow report fast save?",
        try_this: "Read the scan rows: each rung priced at 10 TB from its measured time, and \
                   the pre-aggregate.",
        answer: "Reading less is the saving: skipping files by layout cuts both time and cost in \
                 proportion, a sketch trades a little accuracy for much less work, and a \
                 pre-aggregated table turns a cluster-hour into a lookup. A bigger cluster only \
                 divides the same work over more cores — it makes the answer sooner, not \
                 cheaper.",
    },
];

pub const MODEL_ANSWER: &str = "Price the work, not the cluster: measure what one event or one \
scan costs in core-seconds, scale it to the real rate or size, then ask what each way of running \
it bills for the time it is up — start-up, idle minutes before auto-termination, workers added \
for bursts, the Photon and serverless premiums, spot savings less redone work. Continuous \
streaming wins when changes must land within minutes and the cluster would rarely be down \
anyway; scheduled availableNow runs win once the interval is well above the start-up time; \
autoscaling on lag covers bursts without paying for them all day. The biggest savings come from \
reading less (layout, pre-aggregation), which no cluster setting can match. State the \
assumptions — list prices, linear scaling — and the latency each option really gives.";
