//! A lab's configuration as the code a candidate would run on Databricks:
//! a notebook in Databricks' source format (a `.py` file that is also a
//! plain PySpark script), generated from the settings chosen in the lab.
//! The stream crate writes the CDC and late-events notebooks (it knows the
//! source schemas), the labs crate the others; the UI exports them next to
//! the lab's tables.

use serde::{Deserialize, Serialize};

/// One cell of a notebook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Cell {
    /// Shown as text (Databricks' `%md`).
    Markdown(String),
    Python(String),
    /// One Spark SQL statement, run with `spark.sql` (and displayed when
    /// it returns rows).
    Sql(String),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Notebook {
    /// The file's name, without `.py`.
    pub name: String,
    pub cells: Vec<Cell>,
}

impl Notebook {
    pub fn new(name: &str) -> Self {
        Notebook {
            name: name.to_owned(),
            cells: Vec::new(),
        }
    }

    pub fn markdown(mut self, text: impl Into<String>) -> Self {
        self.cells.push(Cell::Markdown(text.into()));
        self
    }

    pub fn python(mut self, code: impl Into<String>) -> Self {
        self.cells.push(Cell::Python(code.into()));
        self
    }

    pub fn sql(mut self, statement: impl Into<String>) -> Self {
        self.cells.push(Cell::Sql(statement.into()));
        self
    }

    /// The notebook as Databricks exports it ("Source" format).
    pub fn source(&self) -> String {
        let cells: Vec<String> = self
            .cells
            .iter()
            .map(|cell| match cell {
                Cell::Markdown(text) => std::iter::once("# MAGIC %md".to_owned())
                    .chain(
                        text.lines()
                            .map(|l| format!("# MAGIC {l}").trim_end().to_owned()),
                    )
                    .collect::<Vec<_>>()
                    .join("\n"),
                Cell::Python(code) => code.trim_end().to_owned(),
                Cell::Sql(sql) => format!("display(spark.sql({}))", python_string(sql)),
            })
            .collect();
        format!(
            "# Databricks notebook source\n{}\n",
            cells.join("\n\n# COMMAND ----------\n\n")
        )
    }
}

/// `text` as a Python triple-quoted string literal.
pub fn python_string(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace("\"\"\"", "\\\"\\\"\\\"");
    format!("\"\"\"{}\"\"\"", escaped.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_separated_as_databricks_writes_them() {
        let source = Notebook::new("n")
            .markdown("# Title\nSome text")
            .sql("SELECT 1")
            .python("x = 1\n")
            .source();
        assert_eq!(
            source,
            "# Databricks notebook source\n# MAGIC %md\n# MAGIC # Title\n# MAGIC Some text\n\n\
             # COMMAND ----------\n\ndisplay(spark.sql(\"\"\"SELECT 1\"\"\"))\n\n\
             # COMMAND ----------\n\nx = 1\n"
        );
        assert_eq!(python_string("a \"\"\" b"), r#""""a \"\"\" b""""#);
    }
}
