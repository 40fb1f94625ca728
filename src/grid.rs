//! The result grid: a page of rows at a time, so even 100,000 rows render
//! instantly (only the visible page is formatted into the DOM).

use std::sync::Arc;

use arrow_cast::display::{ArrayFormatter, FormatOptions};
use leptos::prelude::*;

use crate::bridge::ResultSet;

pub const PAGE_SIZE: usize = 100;

/// One row of the page: its number in the result and its cells as text.
struct Row {
    index: usize,
    cells: Vec<String>,
}

/// Formats rows `start..end` (clamped to the result).
fn format_rows(result: &ResultSet, start: usize, end: usize) -> Result<Vec<Row>, String> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::with_capacity(end.saturating_sub(start));
    let mut offset = 0;
    for batch in &result.batches {
        let len = batch.num_rows();
        if offset >= end {
            break;
        }
        if offset + len > start {
            let formatters = batch
                .columns()
                .iter()
                .map(|column| ArrayFormatter::try_new(column.as_ref(), &options))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| e.to_string())?;
            for r in start.saturating_sub(offset)..len.min(end - offset) {
                rows.push(Row {
                    index: offset + r,
                    cells: formatters.iter().map(|f| f.value(r).to_string()).collect(),
                });
            }
        }
        offset += len;
    }
    Ok(rows)
}

/// `12345` as `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[component]
pub fn ResultGrid(result: Arc<ResultSet>) -> impl IntoView {
    let page = RwSignal::new(0usize);
    let total = result.rows as usize;
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let numeric: Vec<bool> = result
        .schema
        .fields()
        .iter()
        .map(|f| f.data_type().is_numeric())
        .collect();
    let header = result
        .schema
        .fields()
        .iter()
        .map(|f| {
            view! {
                <th title=f.data_type().to_string()>
                    {f.name().clone()}
                    <span class="type">{f.data_type().to_string()}</span>
                </th>
            }
        })
        .collect_view();
    let body = {
        let result = result.clone();
        move || {
            let start = page.get() * PAGE_SIZE;
            match format_rows(&result, start, start + PAGE_SIZE) {
                Ok(rows) => rows
                    .into_iter()
                    .map(|row| {
                        let cells = row
                            .cells
                            .into_iter()
                            .zip(numeric.iter())
                            .map(|(text, &num)| view! { <td class:num=num>{text}</td> })
                            .collect_view();
                        view! { <tr><td class="rownum">{row.index + 1}</td>{cells}</tr> }
                    })
                    .collect_view()
                    .into_any(),
                Err(e) => view! { <tr><td class="error">{e}</td></tr> }.into_any(),
            }
        }
    };
    let range_text = move || {
        if total == 0 {
            return "no rows".to_owned();
        }
        let start = page.get() * PAGE_SIZE;
        format!(
            "rows {}–{} of {}",
            thousands(start as u64 + 1),
            thousands((start + PAGE_SIZE).min(total) as u64),
            thousands(total as u64)
        )
    };
    view! {
        <div class="grid-wrap">
            <table class="result-grid">
                <thead><tr><th class="rownum">"#"</th>{header}</tr></thead>
                <tbody>{body}</tbody>
            </table>
        </div>
        <div class="pager">
            <button id="prev-page" disabled={move || page.get() == 0}
                on:click=move |_| page.update(|p| *p = p.saturating_sub(1))>"‹ Prev"</button>
            <span id="page-info">{range_text}</span>
            <button id="next-page" disabled={move || page.get() + 1 >= pages}
                on:click=move |_| page.update(|p| *p = (*p + 1).min(pages - 1))>"Next ›"</button>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_digits_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(100000), "100,000");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
