//! Query history, kept in the browser's localStorage across reloads.

const KEY: &str = "lakelab.history";
const MAX_ENTRIES: usize = 50;

/// Newest first.
pub fn load() -> Vec<String> {
    crate::saved::load(KEY).unwrap_or_default()
}

/// Puts `sql` first (moving it if it was there already) and saves.
pub fn remember(history: &mut Vec<String>, sql: &str) {
    history.retain(|old| old != sql);
    history.insert(0, sql.to_owned());
    history.truncate(MAX_ENTRIES);
    // A full localStorage only costs the history, never the query.
    crate::saved::save(KEY, history);
}
