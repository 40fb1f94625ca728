"""Reads a Delta table with delta-rs (the `deltalake` package) and prints what
it sees, for Lakelab's interoperability test: every version's rows, the
history, and the protocol. Values are encoded as Lakelab's JSON output does."""

import datetime
import decimal
import json
import os
import sys

from deltalake import DeltaTable


def encode(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return value


def main():
    path = sys.argv[1]
    latest = DeltaTable(path)
    out = {
        "latest_version": latest.version(),
        "protocol": [latest.protocol().min_reader_version, latest.protocol().min_writer_version],
        "history": [h.get("operation") for h in reversed(latest.history())],
        "versions": {},
    }
    for version in range(latest.version() + 1):
        table = DeltaTable(path, version=version)
        rows = table.to_pyarrow_table().to_pylist()
        out["versions"][version] = {
            "rows": [{k: encode(v) for k, v in row.items()} for row in rows],
            "files": len(table.file_uris()),
            "schema": [f.name for f in table.schema().fields],
        }
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
    # deltalake 1.6.6 sometimes aborts while the interpreter shuts down
    # ("terminate called without an active exception", from its runtime's
    # threads), after all output is written: leave without the teardown.
    os._exit(0)
