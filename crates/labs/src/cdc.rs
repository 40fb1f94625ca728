//! The CDC lab's words: the situation, the questions an interviewer asks
//! about it, and model answers. The simulation itself lives in
//! `lakelab-stream`; the lab page drives it.

pub const ID: &str = "cdc";
pub const TITLE: &str = "Real-time CDC pipeline";

pub const STORY: &str = "The shop's MySQL database (orders, customers, products and dozens of \
back-office tables) takes thousands of transactions a second. Analysts want it in the lakehouse \
within a minute, correct to the row. Debezium reads MySQL's binlog and writes one Kafka topic per \
table; a streaming query lands every change in Bronze, merges it into one Silver table per source \
table, and keeps a Gold summary of daily sales. Everything below runs for real in this tab, in \
simulated time: crash it, poison it, overload it, then ask it to prove Silver still equals MySQL.";

/// A question, what to try in the lab to find out, and the model answer.
pub struct Prompt {
    pub question: &'static str,
    pub try_this: &'static str,
    pub answer: &'static str,
}

pub const PROMPTS: [Prompt; 6] = [
    Prompt {
        question: "Why order changes by binlog position rather than by the event's timestamp?",
        try_this: "Look at the MERGE below: its conditions compare _binlog_seq, never ts_ms.",
        answer: "ts_ms has millisecond resolution and many transactions commit in the same \
                 millisecond; two updates of one row would tie, and a re-sent old change would look \
                 new. The binlog (file, position, row) is MySQL's own commit order: total, unique \
                 and never reused. Keep it in Silver and only let a change win if its position is \
                 greater than the row's.",
    },
    Prompt {
        question: "The consumer dies half-way through a batch. What stops a re-run from writing twice?",
        try_this: "Press “Crash the consumer”, then step: the batch re-runs and reports the writes it skipped.",
        answer: "Two things. The offsets log is written before the batch runs, so the restart reads \
                 exactly the same records. Each Delta write of batch n carries the transaction \
                 (query id, n): a table that already committed it skips the write. Bronze therefore \
                 holds each Kafka record once and the Silver MERGEs apply once; the commit log \
                 written last marks the batch done.",
    },
    Prompt {
        question: "Debezium is at-least-once. Where do duplicates come from and who removes them?",
        try_this: "Start with “Debezium redelivers” on and compare Kafka records with MySQL changes.",
        answer: "After a connector restart Debezium resumes from its last flushed offset and sends \
                 those events again, at new Kafka offsets. Bronze keeps them (it records Kafka \
                 faithfully); Silver is immune because a change whose binlog position is not newer \
                 than the row's is ignored, and within a batch only the newest change per key is \
                 merged.",
    },
    Prompt {
        question: "Input outpaces processing. What do you look at, and what do you change?",
        try_this: "Raise the transaction rate until the alert shows, then watch lag grow batch after batch.",
        answer: "Compare inputRowsPerSecond with processedRowsPerSecond and watch consumer lag: when \
                 input is 1.5× processing, lag only grows. Raise maxOffsetsPerTrigger so each batch \
                 amortises its fixed costs, add Kafka partitions and cores so the read and the MERGE \
                 parallelise, and keep Silver files compact (optimized writes, OPTIMIZE, clustering \
                 on the key) so each MERGE rewrites less.",
    },
    Prompt {
        question: "A malformed event arrives. Should the stream skip it automatically?",
        try_this: "Press “Inject a bad event”: the batch stops, names the offset, and commits nothing.",
        answer: "Not silently. Failing the batch keeps Silver consistent and tells you exactly which \
                 record (topic, partition, offset) is wrong. Skipping must be a decision: move the \
                 record to a dead-letter table with the error, resume, and fix or replay it later. \
                 An automatic skip hides data loss.",
    },
    Prompt {
        question: "Continuous processing or availableNow every few minutes?",
        try_this: "Switch the trigger to availableNow and compare batches and lag.",
        answer: "availableNow drains what is there in bounded batches and stops, so a scheduled \
                 job pays for compute only while it runs; latency becomes the schedule interval. \
                 A processingTime trigger keeps a cluster up for seconds of latency. Pick by the \
                 freshness the consumers need, and price both (the cost lab does).",
    },
];

pub const MODEL_ANSWER: &str = "Capture with Debezium from the binlog (an initial snapshot, then \
row events keyed by primary key, one topic per table, partitioned by key so each row's changes stay \
in order). Land everything unchanged in Bronze with topic, partition, offset and Kafka timestamp, so \
any Silver can be rebuilt. Merge into Silver per micro-batch: keep the newest change per key by \
binlog position, delete on 'd', update only when newer, insert otherwise, and add new source columns \
as they appear. Make it exactly once with a checkpoint (offsets before, commit after) and Delta's \
idempotent writes keyed by batch id. Build Gold from Silver, replacing only the days a batch touched. \
Watch input against processing rate and lag, fail on bad records into a dead-letter path, and prove \
correctness by comparing Silver with the source rather than by trusting the design.";
