//! Delta's schema JSON (`metaData.schemaString`) to Arrow and back.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use serde_json::{Value, json};

use crate::error::{DeltaError, Result};

/// The time zone Delta's `timestamp` is stored in.
pub const UTC: &str = "UTC";

pub fn parse_schema(schema_string: &str) -> Result<SchemaRef> {
    let value: Value = serde_json::from_str(schema_string)
        .map_err(|e| DeltaError::Invalid(format!("schemaString is not JSON: {e}")))?;
    let fields = struct_fields(&value)?;
    Ok(Arc::new(Schema::new(fields)))
}

pub fn schema_string(schema: &Schema) -> Result<String> {
    Ok(struct_json(schema.fields())?.to_string())
}

fn struct_fields(value: &Value) -> Result<Fields> {
    let bad = || DeltaError::Invalid(format!("not a Delta struct type: {value}"));
    let fields = value
        .get("fields")
        .and_then(Value::as_array)
        .ok_or_else(bad)?;
    fields
        .iter()
        .map(|field| {
            let name = field.get("name").and_then(Value::as_str).ok_or_else(bad)?;
            let data_type = data_type(field.get("type").ok_or_else(bad)?)?;
            let nullable = field
                .get("nullable")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            Ok(Field::new(name, data_type, nullable))
        })
        .collect::<Result<Vec<_>>>()
        .map(Fields::from)
}

fn data_type(value: &Value) -> Result<DataType> {
    if let Some(name) = value.as_str() {
        return primitive(name);
    }
    let unsupported = || DeltaError::UnsupportedType(value.to_string());
    match value.get("type").and_then(Value::as_str) {
        Some("struct") => Ok(DataType::Struct(struct_fields(value)?)),
        Some("array") => {
            let element = data_type(value.get("elementType").ok_or_else(unsupported)?)?;
            let nullable = value
                .get("containsNull")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            Ok(DataType::List(Arc::new(Field::new(
                "element", element, nullable,
            ))))
        }
        Some("map") => {
            let key = data_type(value.get("keyType").ok_or_else(unsupported)?)?;
            let item = data_type(value.get("valueType").ok_or_else(unsupported)?)?;
            let nullable = value
                .get("valueContainsNull")
                .and_then(Value::as_bool)
                .unwrap_or(true);
            let entries = Field::new(
                "key_value",
                DataType::Struct(Fields::from(vec![
                    Field::new("key", key, false),
                    Field::new("value", item, nullable),
                ])),
                false,
            );
            Ok(DataType::Map(Arc::new(entries), false))
        }
        _ => Err(unsupported()),
    }
}

fn primitive(name: &str) -> Result<DataType> {
    Ok(match name {
        "string" => DataType::Utf8,
        "long" => DataType::Int64,
        "integer" => DataType::Int32,
        "short" => DataType::Int16,
        "byte" => DataType::Int8,
        "float" => DataType::Float32,
        "double" => DataType::Float64,
        "boolean" => DataType::Boolean,
        "binary" => DataType::Binary,
        "date" => DataType::Date32,
        "timestamp" => DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into())),
        "timestamp_ntz" => DataType::Timestamp(TimeUnit::Microsecond, None),
        other => return decimal(other),
    })
}

fn decimal(name: &str) -> Result<DataType> {
    let unsupported = || DeltaError::UnsupportedType(name.to_owned());
    let inner = name
        .strip_prefix("decimal(")
        .and_then(|rest| rest.strip_suffix(')'))
        .ok_or_else(unsupported)?;
    let (p, s) = inner.split_once(',').ok_or_else(unsupported)?;
    let precision: u8 = p.trim().parse().map_err(|_| unsupported())?;
    let scale: i8 = s.trim().parse().map_err(|_| unsupported())?;
    if precision == 0 || precision > 38 {
        return Err(unsupported());
    }
    Ok(DataType::Decimal128(precision, scale))
}

fn struct_json(fields: &Fields) -> Result<Value> {
    let fields = fields
        .iter()
        .map(|f| {
            Ok(json!({
                "name": f.name(),
                "type": type_json(f.data_type())?,
                "nullable": f.is_nullable(),
                "metadata": {},
            }))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(json!({"type": "struct", "fields": fields}))
}

/// The Arrow type a column of `data_type` is stored as in a Delta table.
pub fn delta_arrow_type(data_type: &DataType) -> Result<DataType> {
    self::data_type(&type_json(data_type)?)
}

fn type_json(data_type: &DataType) -> Result<Value> {
    use DataType::*;
    let name = match data_type {
        Utf8 | LargeUtf8 | Utf8View => "string",
        Int64 | UInt32 => "long",
        Int32 | UInt16 => "integer",
        Int16 | UInt8 => "short",
        Int8 => "byte",
        Float32 | Float16 => "float",
        Float64 => "double",
        Boolean => "boolean",
        Binary | LargeBinary | BinaryView | FixedSizeBinary(_) => "binary",
        Date32 | Date64 => "date",
        Timestamp(_, Some(_)) => "timestamp",
        Timestamp(_, None) => "timestamp_ntz",
        Decimal128(p, s) | Decimal256(p, s) if *p <= 38 => {
            return Ok(Value::String(format!("decimal({p},{s})")));
        }
        Struct(fields) => return struct_json(fields),
        List(f) | LargeList(f) | ListView(f) | LargeListView(f) | FixedSizeList(f, _) => {
            return Ok(json!({
                "type": "array",
                "elementType": type_json(f.data_type())?,
                "containsNull": f.is_nullable(),
            }));
        }
        Map(entries, _) => {
            let DataType::Struct(kv) = entries.data_type() else {
                return Err(DeltaError::UnsupportedType(data_type.to_string()));
            };
            let (Some(k), Some(v)) = (kv.first(), kv.get(1)) else {
                return Err(DeltaError::UnsupportedType(data_type.to_string()));
            };
            return Ok(json!({
                "type": "map",
                "keyType": type_json(k.data_type())?,
                "valueType": type_json(v.data_type())?,
                "valueContainsNull": v.is_nullable(),
            }));
        }
        Null => "string",
        Dictionary(_, value) => return type_json(value),
        other => return Err(DeltaError::UnsupportedType(other.to_string())),
    };
    Ok(Value::String(name.to_owned()))
}

/// The Delta form of an Arrow schema: every column in the type Delta stores it as.
pub fn to_delta_schema(schema: &Schema) -> Result<SchemaRef> {
    parse_schema(&schema_string(schema)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_type() {
        let s = r#"{"type":"struct","fields":[
            {"name":"a","type":"long","nullable":false,"metadata":{}},
            {"name":"b","type":"decimal(10,2)","nullable":true,"metadata":{}},
            {"name":"c","type":"timestamp","nullable":true,"metadata":{}},
            {"name":"d","type":{"type":"array","elementType":"string","containsNull":true},"nullable":true,"metadata":{}},
            {"name":"e","type":{"type":"map","keyType":"string","valueType":"integer","valueContainsNull":true},"nullable":true,"metadata":{}},
            {"name":"f","type":{"type":"struct","fields":[{"name":"x","type":"date","nullable":true,"metadata":{}}]},"nullable":true,"metadata":{}}
        ]}"#;
        let schema = parse_schema(s).unwrap();
        assert_eq!(schema.field(0).data_type(), &DataType::Int64);
        assert!(!schema.field(0).is_nullable());
        let again = parse_schema(&schema_string(&schema).unwrap()).unwrap();
        assert_eq!(schema, again);
    }

    #[test]
    fn unknown_types_are_named() {
        let s = r#"{"type":"struct","fields":[{"name":"v","type":"variant","nullable":true}]}"#;
        assert!(parse_schema(s).unwrap_err().to_string().contains("variant"));
    }
}
