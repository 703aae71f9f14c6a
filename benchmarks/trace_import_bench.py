"""Trace import benchmark: N conversations written as OTLP JSON (GenAI semantic conventions:
an invoke_agent root, a retrieval, two chat calls and the tool run between them: 5 spans a
trace) versus the same N conversations as chat JSONL, both imported with full validation in
the same run. The OTLP file is written in batches of 100 traces a line, and each trace's spans
are split over two lines far apart (as a collector flushing batches writes them), so the
import must group across the file; the spill-to-disk grouping is on for the large file.

Run: .venv/bin/python benchmarks/trace_import_bench.py [--traces 100000] [--keep DIR]
Each import runs in a fresh child process, so its peak RSS is its own. The OTLP lines are
written directly in the OTLP JSON shape the SDK's JSON file exporter writes (the tests check
the reader against the SDK's own output); going through the SDK for 500k spans would time the
SDK, not the import."""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from import_bench import ROOT, generate, make_record, measure  # noqa: E402

BATCH = 100  # traces per OTLP line


def _attr(key: str, value) -> dict:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value if isinstance(value, str)
                                  else json.dumps(value)}}


def _parts(message: dict) -> dict:
    if message.get("tool_calls"):
        c = message["tool_calls"][0]
        return {"role": "assistant", "parts": [{"type": "tool_call", "id": c["id"], "name":
                                                c["function"]["name"],
                                                "arguments": json.loads(c["function"]["arguments"])}]}
    if message["role"] == "tool":
        return {"role": "tool", "parts": [{"type": "tool_call_response",
                                           "id": message["tool_call_id"],
                                           "response": message["content"]}]}
    return {"role": message["role"], "parts": [{"type": "text", "content": message["content"]}]}


def _span(trace: str, n: int, parent: str | None, name: str, start: int, attrs: list) -> dict:
    span = {"traceId": trace, "spanId": f"{n:016x}", "name": name, "kind": 1,
            "startTimeUnixNano": str(start), "endTimeUnixNano": str(start + 900_000),
            "attributes": attrs, "status": {}}
    if parent:
        span["parentSpanId"] = parent
    return span


def trace_spans(i: int, record: dict) -> list[dict]:
    """One record's conversation as the 5 spans of an agent turn."""
    m = record["messages"]
    trace, base, t0 = f"{i + 1:032x}", i * 8 + 1, 1_770_000_000_000_000_000 + i * 10_000_000
    root = f"{base:016x}"
    system = [_attr("gen_ai.system_instructions", [{"type": "text", "content": m[0]["content"]}])]
    chat = [_attr("gen_ai.operation.name", "chat"), _attr("gen_ai.request.model", "gpt-4o-mini")]
    call = m[2]["tool_calls"][0]
    return [
        _span(trace, base, None, "invoke_agent support", t0, [
            _attr("gen_ai.operation.name", "invoke_agent"),
            _attr("gen_ai.conversation.id", record["id"]),
            *[_attr(f"app.{k}", v) for k, v in record["metadata"].items()]]),
        _span(trace, base + 1, root, "retrieval kb", t0 + 1_000_000, [
            _attr("gen_ai.operation.name", "retrieval"),
            _attr("gen_ai.retrieval.documents", [{"id": d["source"], "score": 0.5,
                                                  "content": d["text"]} for d in record["context"]])]),
        _span(trace, base + 2, root, "chat gpt-4o-mini", t0 + 2_000_000, chat + system + [
            _attr("gen_ai.input.messages", [_parts(m[1])]),
            _attr("gen_ai.output.messages", [_parts(m[2])]),
            _attr("gen_ai.usage.input_tokens", 300), _attr("gen_ai.usage.output_tokens", 20)]),
        _span(trace, base + 3, root, "execute_tool lookup_order", t0 + 3_000_000, [
            _attr("gen_ai.operation.name", "execute_tool"),
            _attr("gen_ai.tool.name", call["function"]["name"]), _attr("gen_ai.tool.call.id",
                                                                       call["id"]),
            _attr("gen_ai.tool.call.arguments", call["function"]["arguments"]),
            _attr("gen_ai.tool.call.result", m[3]["content"])]),
        _span(trace, base + 4, root, "chat gpt-4o-mini", t0 + 4_000_000, chat + system + [
            _attr("gen_ai.input.messages", [_parts(x) for x in m[1:6]]),
            _attr("gen_ai.output.messages", [_parts(m[6])]),
            _attr("gen_ai.usage.input_tokens", 500), _attr("gen_ai.usage.output_tokens", 40)]),
    ]


def _line(spans: list[dict]) -> str:
    return json.dumps({"resourceSpans": [{"resource": {"attributes": [
        _attr("service.name", "support-bot")]}, "scopeSpans": [
        {"scope": {"name": "bench"}, "spans": spans}]}]}) + "\n"


def generate_otlp(path: Path, traces: int, seed: int = 1) -> None:
    """The same conversations as import_bench's JSONL, each a 5-span trace; a trace's first
    two spans go on one line and the other three on a line written later in the file."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as f:
        held: list[dict] = []
        for start in range(0, traces, BATCH):
            now: list[dict] = []
            for i in range(start, min(start + BATCH, traces)):
                spans = trace_spans(i, make_record(i, rng))
                # the JSONL record merges the last user turn; the trace stops at the tool answer
                now += spans[:2]
                held += spans[2:]
            f.write(_line(now))
            if len(held) >= 3 * BATCH * 5:  # flush the held spans five batches later
                f.write(_line(held))
                held = []
        if held:
            f.write(_line(held))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--traces", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="work in this folder instead of a temp one")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="trace_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    jsonl, otlp = work / "bench.jsonl", work / "bench-otlp.jsonl"
    generate(jsonl, args.traces)
    generate_otlp(otlp, args.traces)
    for f in work.glob("*.duckdb*"):
        shutil.rmtree(f) if f.is_dir() else f.unlink()
    plain = measure("import", jsonl, work / "jsonl.duckdb")
    traced = measure("import", otlp, work / "otlp.duckdb")
    sizes = {p.name: p.stat().st_size / 1e6 for p in (jsonl, otlp)}
    print(f"{args.traces:,} conversations: JSONL {sizes['bench.jsonl']:.0f} MB, OTLP JSON "
          f"{sizes['bench-otlp.jsonl']:.0f} MB ({args.traces * 5:,} spans); {os.cpu_count()} "
          f"CPUs, load average {os.getloadavg()[0]:.1f} (shared machine)")
    for name, m in (("chat JSONL import", plain), ("OTLP JSON import", traced)):
        print(f"{name:20} {m['seconds']:7.2f} s {args.traces / m['seconds']:7,.0f} traces/s | CPU "
              f"{m['cpu_seconds']:7.2f} s | peak RSS {m['peak_rss_mb']:5.0f} MB")
    print(f"OTLP / JSONL: {traced['seconds'] / plain['seconds']:.2f}x the time, "
          f"{traced['cpu_seconds'] / plain['cpu_seconds']:.2f}x the CPU")
    print(f"(work folder: {work}; {ROOT.name} at {ROOT})")


if __name__ == "__main__":
    main()
