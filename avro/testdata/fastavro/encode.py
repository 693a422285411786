"""Encode events with fastavro, a second Avro implementation, for avro/fastavro_test.go.

Reads one JSON request on stdin:
  {"dirs": ["/abs/schema/dir", ...],
   "events": [{"dir": 0, "file": "TicketEvent.avsc", "event": {...natural JSON...}}, ...]}
and writes one JSON answer on stdout:
  {"fastavro": "<version>",
   "schemas": [{"dir": 0, "file": ..., "name": ..., "canonical": ..., "fingerprint": "<hex, as fastavro prints it>", "id": N}, ...],
   "records": ["<hex of the Confluent wire-format record>", ...]}

Everything here is computed by fastavro and this script alone, as a producer written in Python would:
each .avsc file is parsed on its own, its id is the upper 32 bits of the CRC-64-AVRO fingerprint of
fastavro's Parsing Canonical Form, masked to a positive int32, and each event, given in the natural JSON
the bridge publishes (timestamps as ISO-8601 text, free-form JsonValue unwrapped, a union's value without
a branch name), is turned into the datum fastavro writes by walking the schema, choosing each union branch
explicitly with fastavro's (name, value) tuple notation.
"""

import base64
import datetime
import io
import json
import os
import sys

import fastavro
from fastavro.schema import fingerprint, parse_schema, to_parsing_canonical_form

EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
MILLI = datetime.timedelta(milliseconds=1)
MICRO = datetime.timedelta(microseconds=1)
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}


class Schemas:
    """One parsed .avsc file and the named types it defines."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        self.named = {}
        self.parsed = parse_schema(raw, named_schemas=self.named)
        self.name = self.parsed["name"]
        self.canonical = to_parsing_canonical_form(raw)
        self.fingerprint = fingerprint(self.canonical, "CRC-64-AVRO")
        fp = int.from_bytes(bytes.fromhex(self.fingerprint), "little")
        self.id = (fp >> 32) & 0x7FFFFFFF

    def resolve(self, s):
        if isinstance(s, str) and s not in PRIMITIVES:
            return self.named[s]
        return s

    def type_of(self, s):
        s = self.resolve(s)
        return s if isinstance(s, str) else ("union" if isinstance(s, list) else s["type"])

    def branch_name(self, s):
        s = self.resolve(s)
        if isinstance(s, str):
            return s
        return s.get("name", s["type"])

    def is_json_value(self, s):
        return s["type"] == "record" and s["name"].split(".")[-1] == "JsonValue" and [f["name"] for f in s["fields"]] == ["value"]

    def fits(self, s, v):
        """Whether natural value v can be written as schema s."""
        s = self.resolve(s)
        t = self.type_of(s)
        logical = s.get("logicalType") if isinstance(s, dict) else None
        if t == "null":
            return v is None
        if t == "boolean":
            return isinstance(v, bool)
        if t in ("int", "long"):
            if logical and logical.startswith(("timestamp", "local-timestamp", "date", "time")) and isinstance(v, str):
                return True
            return isinstance(v, int) and not isinstance(v, bool)
        if t in ("float", "double"):
            return isinstance(v, (int, float)) and not isinstance(v, bool)
        if t in ("string", "bytes", "fixed"):
            return isinstance(v, str)
        if t == "enum":
            return isinstance(v, str) and v in s["symbols"]
        if t == "array":
            return isinstance(v, list)
        if t == "map":
            return isinstance(v, dict)
        if t == "record":
            if self.is_json_value(s):
                return True
            if not isinstance(v, dict):
                return False
            fields = {f["name"]: f for f in s["fields"]}
            if not set(v) <= set(fields):
                return False
            return all(self.fits(f["type"], v[n]) if n in v else "default" in f for n, f in fields.items())
        if t == "union":
            return any(self.fits(b, v) for b in s)
        raise ValueError(f"unsupported schema type {t}")

    def datum(self, s, v):
        """The value fastavro writes for natural value v of schema s."""
        s = self.resolve(s)
        t = self.type_of(s)
        logical = s.get("logicalType") if isinstance(s, dict) else None
        if t == "union":
            for b in s:
                if self.fits(b, v):
                    return (self.branch_name(b), self.datum(b, v))
            raise ValueError(f"{v!r} fits no branch of {s}")
        if t in ("int", "long") and isinstance(v, str):
            if logical in ("timestamp-millis", "local-timestamp-millis"):
                return (iso(v) - EPOCH) // MILLI
            if logical in ("timestamp-micros", "local-timestamp-micros"):
                return (iso(v) - EPOCH) // MICRO
            if logical == "date":
                return (datetime.date.fromisoformat(v) - datetime.date(1970, 1, 1)).days
            raise ValueError(f"cannot write {v!r} as {logical}")
        if t in ("int", "long"):
            return int(v)
        if t in ("float", "double"):
            return float(v)
        if t in ("bytes", "fixed"):
            return base64.b64decode(v)
        if t == "array":
            return [self.datum(s["items"], x) for x in v]
        if t == "map":
            return {k: self.datum(s["values"], x) for k, x in v.items()}
        if t == "record":
            if self.is_json_value(s):
                return {"value": self.datum(s["fields"][0]["type"], v)}
            out = {}
            for f in s["fields"]:
                if f["name"] in v:
                    out[f["name"]] = self.datum(f["type"], v[f["name"]])
                else:
                    if "default" not in f:
                        raise ValueError(f"{s['name']}: no value for {f['name']}, which has no default")
                    out[f["name"]] = f["default"]
            return out
        return v


def iso(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def main():
    req = json.load(sys.stdin)
    loaded = {}
    answer = {"fastavro": fastavro.__version__, "schemas": [], "records": []}
    for d, root in enumerate(req["dirs"]):
        for dirpath, _, files in sorted(os.walk(root)):
            for name in sorted(files):
                if not name.endswith(".avsc"):
                    continue
                rel = os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/")
                s = Schemas(os.path.join(dirpath, name))
                loaded[(d, rel)] = s
                answer["schemas"].append({"dir": d, "file": rel, "name": s.name, "canonical": s.canonical,
                                          "fingerprint": s.fingerprint, "id": s.id})
    for e in req["events"]:
        s = loaded[(e["dir"], e["file"])]
        buf = io.BytesIO()
        buf.write(b"\x00" + s.id.to_bytes(4, "big"))
        fastavro.schemaless_writer(buf, s.parsed, s.datum(s.parsed, e["event"]))
        answer["records"].append(buf.getvalue().hex())
    json.dump(answer, sys.stdout)


if __name__ == "__main__":
    main()
