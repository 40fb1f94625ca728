//! A changed row as read from its JSON: the columns in the order written,
//! their names shared. Every change of a table repeats the same few names;
//! a `serde_json::Map` allocates a string per name and a tree per row, and
//! frees them again (reading 354,000 envelopes took 0.72 s and dropping
//! them 0.23 s that way; 0.63 s and 0.04 s as one vector per row, release).

use std::cell::RefCell;
use std::collections::HashSet;
use std::fmt;
use std::rc::Rc;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::Value;

/// Column names kept for sharing; past this many (input with ever new
/// names), further names are simply allocated.
const MAX_SHARED_NAMES: usize = 10_000;

thread_local! {
    static NAMES: RefCell<HashSet<Rc<str>>> = RefCell::new(HashSet::new());
}

fn shared_name(name: &str) -> Rc<str> {
    NAMES.with(|names| {
        let mut names = names.borrow_mut();
        if let Some(known) = names.get(name) {
            return known.clone();
        }
        let new: Rc<str> = Rc::from(name);
        if names.len() < MAX_SHARED_NAMES {
            names.insert(new.clone());
        }
        new
    })
}

/// A row's columns and values; a name written twice keeps its last value,
/// as a JSON object reads.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row(Vec<(Rc<str>, Value)>);

impl Row {
    pub fn get(&self, column: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| &**n == column).map(|(_, v)| v)
    }

    /// `get`, looking first at position `at` (see `position_near`).
    pub fn get_near(&self, at: usize, column: &str) -> Option<&Value> {
        position_near(&self.0, at, |(n, _)| &**n == column).map(|i| &self.0[i].1)
    }

    pub fn contains(&self, column: &str) -> bool {
        self.get(column).is_some()
    }

    pub fn remove(&mut self, column: &str) -> Option<Value> {
        let i = self.0.iter().position(|(n, _)| &**n == column)?;
        Some(self.0.remove(i).1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(n, v)| (&**n, v))
    }

    fn set(&mut self, name: Rc<str>, value: Value) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }
}

/// The columns with their shared names, in the order written.
impl IntoIterator for Row {
    type Item = (Rc<str>, Value);
    type IntoIter = std::vec::IntoIter<(Rc<str>, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

/// The position of the item that `is`, looking first at `at`: a table's
/// rows list their columns in the table's order, so a batch's columns are
/// found without comparing every name before them.
pub fn position_near<T>(items: &[T], at: usize, is: impl Fn(&T) -> bool) -> Option<usize> {
    match items.get(at) {
        Some(item) if is(item) => Some(at),
        _ => items.iter().position(is),
    }
}

impl<'de> Deserialize<'de> for Row {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RowVisitor)
    }
}

struct RowVisitor;

impl<'de> Visitor<'de> for RowVisitor {
    type Value = Row;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Row, A::Error> {
        let mut row = Row(Vec::with_capacity(map.size_hint().unwrap_or(8)));
        while let Some(name) = map.next_key_seed(NameSeed)? {
            row.set(name, map.next_value()?);
        }
        Ok(row)
    }
}

/// Reads an object's key as a shared name, without allocating a string.
struct NameSeed;

impl<'de> DeserializeSeed<'de> for NameSeed {
    type Value = Rc<str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Rc<str>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NameSeed {
    type Value = Rc<str>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a column name")
    }

    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Rc<str>, E> {
        Ok(shared_name(name))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_an_object_as_json_does() {
        let row: Row =
            serde_json::from_str(r#"{"id":1,"name":"a\"b","q":2.5,"q":3,"n":null}"#).unwrap();
        let expected: serde_json::Map<String, Value> =
            serde_json::from_str(r#"{"id":1,"name":"a\"b","q":3,"n":null}"#).unwrap();
        assert_eq!(row.iter().count(), expected.len());
        for (name, value) in &expected {
            assert_eq!(row.get(name), Some(value), "{name}");
        }
        assert!(serde_json::from_str::<Row>("[1]").is_err());
        assert_eq!(row.get_near(1, "name"), expected.get("name"));
        assert_eq!(row.get_near(0, "q"), Some(&Value::from(3)));
        assert_eq!(row.get_near(9, "n"), Some(&Value::Null));
        assert_eq!(row.get_near(0, "missing"), None);
    }

    #[test]
    fn names_are_shared_and_removable() {
        let a: Row = serde_json::from_str(r#"{"order_id":1,"__op":"c"}"#).unwrap();
        let mut b: Row = serde_json::from_str(r#"{"order_id":2}"#).unwrap();
        assert!(Rc::ptr_eq(&a.0[0].0, &b.0[0].0));
        assert_eq!(b.remove("order_id"), Some(Value::from(2)));
        assert!(!b.contains("order_id"));
        assert_eq!(b.remove("order_id"), None);
    }
}
