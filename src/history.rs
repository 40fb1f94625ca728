//! Query history, kept in the browser's localStorage across reloads.

const KEY: &str = "lakelab.history";
const MAX_ENTRIES: usize = 50;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Newest first.
pub fn load() -> Vec<String> {
    storage()
        .and_then(|s| s.get_item(KEY).ok()?)
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default()
}

/// Puts `sql` first (moving it if it was there already) and saves.
pub fn remember(history: &mut Vec<String>, sql: &str) {
    history.retain(|old| old != sql);
    history.insert(0, sql.to_owned());
    history.truncate(MAX_ENTRIES);
    if let (Some(storage), Ok(text)) = (storage(), serde_json::to_string(history)) {
        // A full localStorage only costs the history, never the query.
        let _ = storage.set_item(KEY, &text);
    }
}
