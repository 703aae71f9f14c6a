"""Trace fixtures written by the real SDKs: OpenTelemetry spans made with `opentelemetry-sdk`
(TracerProvider + InMemorySpanExporter), attribute names from `opentelemetry-semantic-
conventions` and `openinference-semantic-conventions`, encoded to OTLP JSON by the SDK's own
encoders (the JSON file exporter: hex ids; the protobuf encoder + MessageToDict: base64 ids)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

from google.protobuf.json_format import MessageToDict
from openinference.semconv.trace import (
    DocumentAttributes,
    MessageAttributes,
    OpenInferenceSpanKindValues,
    SpanAttributes,
    ToolCallAttributes,
)
from opentelemetry.exporter.otlp.json.file import FileSpanExporter
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.semconv._incubating.attributes import gen_ai_attributes as G
from opentelemetry.trace import Status, StatusCode, Tracer

Ops = G.GenAiOperationNameValues
SYSTEM = "You are the support assistant of Acme."
QUESTION = "Where is my order 4471?"
ANSWER = "It shipped yesterday; it arrives Friday."
ORDER = {"order_id": 4471}
STATUS = {"status": "shipped", "eta": "Friday"}
DOC = "Orders ship within 2 days of payment."


def record_spans(build: Callable[[Tracer], None], service: str = "support-bot") -> list[ReadableSpan]:
    """Run `build` against a real TracerProvider; the finished spans, in end order."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    build(provider.get_tracer("triage-tests"))
    provider.shutdown()
    return list(exporter.get_finished_spans())


def otlp_json_lines(spans: list[ReadableSpan]) -> str:
    """OTLP JSON as the SDK's JSON file exporter writes it (one request a line, hex ids)."""
    buffer = io.StringIO()
    FileSpanExporter(stream=buffer).export(spans)
    return buffer.getvalue()


def otlp_proto_dict(spans: list[ReadableSpan]) -> dict:
    """The protobuf encoder's request as protobuf's JSON mapping gives it (base64 ids)."""
    return MessageToDict(encode_spans(spans))


def write_jsonl(path: Path, requests: list[str | dict]) -> Path:
    path.write_text("".join(r if isinstance(r, str) else json.dumps(r) + "\n" for r in requests))
    return path


def _parts(role: str, *parts: dict) -> dict:
    return {"role": role, "parts": list(parts)}


def _text(content: str) -> dict:
    return {"type": "text", "content": content}


def genai_support_trace(tracer: Tracer, conversation: str = "conv-1", fail_tool: bool = False,
                        question: str = QUESTION) -> None:
    """An agent turn in the current GenAI conventions: retrieval, a chat call asking for a
    tool, the tool run, a second chat call answering."""
    call = {"type": "tool_call", "id": "call_1", "name": "get_order", "arguments": ORDER}
    with tracer.start_as_current_span("invoke_agent support") as root:
        root.set_attribute(G.GEN_AI_OPERATION_NAME, Ops.INVOKE_AGENT.value)
        root.set_attribute(G.GEN_AI_AGENT_NAME, "support")
        root.set_attribute(G.GEN_AI_CONVERSATION_ID, conversation)
        with tracer.start_as_current_span("retrieval kb") as s:
            s.set_attribute(G.GEN_AI_OPERATION_NAME, Ops.RETRIEVAL.value)
            s.set_attribute(G.GEN_AI_RETRIEVAL_QUERY_TEXT, question)
            s.set_attribute(G.GEN_AI_RETRIEVAL_DOCUMENTS, json.dumps(
                [{"id": "kb/shipping.md", "score": 0.91, "content": DOC}]))
        with tracer.start_as_current_span("chat gpt-4o") as s:
            s.set_attribute(G.GEN_AI_OPERATION_NAME, Ops.CHAT.value)
            s.set_attribute(G.GEN_AI_REQUEST_MODEL, "gpt-4o")
            s.set_attribute(G.GEN_AI_SYSTEM_INSTRUCTIONS, json.dumps([_text(SYSTEM)]))
            s.set_attribute(G.GEN_AI_INPUT_MESSAGES, json.dumps([_parts("user", _text(question))]))
            s.set_attribute(G.GEN_AI_OUTPUT_MESSAGES, json.dumps(
                [{**_parts("assistant", call), "finish_reason": "tool_call"}]))
            s.set_attribute(G.GEN_AI_TOOL_DEFINITIONS, json.dumps([{
                "type": "function", "name": "get_order", "description": "Look up an order",
                "parameters": {"type": "object"}}]))
            s.set_attribute(G.GEN_AI_USAGE_INPUT_TOKENS, 120)
            s.set_attribute(G.GEN_AI_USAGE_OUTPUT_TOKENS, 12)
        with tracer.start_as_current_span("execute_tool get_order") as s:
            s.set_attribute(G.GEN_AI_OPERATION_NAME, Ops.EXECUTE_TOOL.value)
            s.set_attribute(G.GEN_AI_TOOL_NAME, "get_order")
            s.set_attribute(G.GEN_AI_TOOL_CALL_ID, "call_1")
            s.set_attribute(G.GEN_AI_TOOL_CALL_ARGUMENTS, json.dumps(ORDER))
            if fail_tool:
                s.set_status(Status(StatusCode.ERROR, "TimeoutError: orders service"))
                return
            s.set_attribute(G.GEN_AI_TOOL_CALL_RESULT, json.dumps(STATUS))
        with tracer.start_as_current_span("chat gpt-4o") as s:
            s.set_attribute(G.GEN_AI_OPERATION_NAME, Ops.CHAT.value)
            s.set_attribute(G.GEN_AI_REQUEST_MODEL, "gpt-4o")
            s.set_attribute(G.GEN_AI_SYSTEM_INSTRUCTIONS, json.dumps([_text(SYSTEM)]))
            s.set_attribute(G.GEN_AI_INPUT_MESSAGES, json.dumps([
                _parts("user", _text(question)), _parts("assistant", call),
                _parts("tool", {"type": "tool_call_response", "id": "call_1",
                                "response": STATUS})]))
            s.set_attribute(G.GEN_AI_OUTPUT_MESSAGES, json.dumps(
                [{**_parts("assistant", _text(ANSWER)), "finish_reason": "stop"}]))
            s.set_attribute(G.GEN_AI_USAGE_INPUT_TOKENS, 160)
            s.set_attribute(G.GEN_AI_USAGE_OUTPUT_TOKENS, 20)


def genai_indexed_trace(tracer: Tracer) -> None:
    """The older indexed form (`gen_ai.prompt.{i}.*`, `gen_ai.completion.{i}.*`), as
    OpenLLMetry writes it, with its own tool span."""
    with tracer.start_as_current_span("support.workflow"), \
            tracer.start_as_current_span("openai.chat") as s:
        s.set_attribute(G.GEN_AI_SYSTEM, "openai")
        s.set_attribute(G.GEN_AI_REQUEST_MODEL, "gpt-4o-mini")
        s.set_attribute(f"{G.GEN_AI_PROMPT}.0.role", "system")
        s.set_attribute(f"{G.GEN_AI_PROMPT}.0.content", SYSTEM)
        s.set_attribute(f"{G.GEN_AI_PROMPT}.1.role", "user")
        s.set_attribute(f"{G.GEN_AI_PROMPT}.1.content", QUESTION)
        s.set_attribute(f"{G.GEN_AI_COMPLETION}.0.role", "assistant")
        s.set_attribute(f"{G.GEN_AI_COMPLETION}.0.finish_reason", "tool_calls")
        s.set_attribute(f"{G.GEN_AI_COMPLETION}.0.tool_calls.0.id", "call_9")
        s.set_attribute(f"{G.GEN_AI_COMPLETION}.0.tool_calls.0.name", "get_order")
        s.set_attribute(f"{G.GEN_AI_COMPLETION}.0.tool_calls.0.arguments", json.dumps(ORDER))
        s.set_attribute(G.GEN_AI_USAGE_PROMPT_TOKENS, 50)
        with tracer.start_as_current_span("get_order.tool") as t:
            t.set_attribute("traceloop.span.kind", "tool")
            t.set_attribute("traceloop.entity.name", "get_order")
            t.set_attribute("traceloop.entity.input", json.dumps(ORDER))
            t.set_attribute("traceloop.entity.output", json.dumps(STATUS))


def _oi_messages(prefix: str, messages: list[dict]) -> dict:
    attrs: dict = {}
    for i, m in enumerate(messages):
        base = f"{prefix}.{i}."
        attrs[base + MessageAttributes.MESSAGE_ROLE] = m["role"]
        if m.get("content") is not None:
            attrs[base + MessageAttributes.MESSAGE_CONTENT] = m["content"]
        if m.get("tool_call_id"):
            attrs[base + MessageAttributes.MESSAGE_TOOL_CALL_ID] = m["tool_call_id"]
        for j, call in enumerate(m.get("tool_calls") or []):
            cbase = f"{base}{MessageAttributes.MESSAGE_TOOL_CALLS}.{j}."
            attrs[cbase + ToolCallAttributes.TOOL_CALL_ID] = call["id"]
            attrs[cbase + ToolCallAttributes.TOOL_CALL_FUNCTION_NAME] = call["name"]
            attrs[cbase + ToolCallAttributes.TOOL_CALL_FUNCTION_ARGUMENTS_JSON] = call["arguments"]
    return attrs


def openinference_trace(tracer: Tracer, session: str = "sess-7", with_llm: bool = True) -> None:
    """A RAG agent as OpenInference instrumentations (Arize Phoenix) record it."""
    call = {"id": "call_a", "name": "get_order", "arguments": json.dumps(ORDER)}
    kind = SpanAttributes.OPENINFERENCE_SPAN_KIND
    with tracer.start_as_current_span("agent") as root:
        root.set_attribute(kind, OpenInferenceSpanKindValues.AGENT.value)
        root.set_attribute(SpanAttributes.SESSION_ID, session)
        root.set_attribute(SpanAttributes.USER_ID, "user-42")
        root.set_attribute(SpanAttributes.INPUT_VALUE, QUESTION)
        root.set_attribute(SpanAttributes.METADATA, json.dumps({"channel": "web"}))
        with tracer.start_as_current_span("retrieve") as s:
            s.set_attribute(kind, OpenInferenceSpanKindValues.RETRIEVER.value)
            s.set_attribute(SpanAttributes.INPUT_VALUE, QUESTION)
            pre = f"{SpanAttributes.RETRIEVAL_DOCUMENTS}.0."
            s.set_attribute(pre + DocumentAttributes.DOCUMENT_ID, "doc-1")
            s.set_attribute(pre + DocumentAttributes.DOCUMENT_CONTENT, DOC)
            s.set_attribute(pre + DocumentAttributes.DOCUMENT_SCORE, 0.8)
        if not with_llm:
            return
        history = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": QUESTION}]
        with tracer.start_as_current_span("ChatOpenAI") as s:
            s.set_attribute(kind, OpenInferenceSpanKindValues.LLM.value)
            s.set_attribute(SpanAttributes.LLM_MODEL_NAME, "gpt-4o-mini")
            s.set_attributes(_oi_messages(SpanAttributes.LLM_INPUT_MESSAGES, history))
            s.set_attributes(_oi_messages(SpanAttributes.LLM_OUTPUT_MESSAGES,
                                          [{"role": "assistant", "tool_calls": [call]}]))
            s.set_attribute(SpanAttributes.LLM_TOKEN_COUNT_PROMPT, 90)
        with tracer.start_as_current_span("get_order") as s:
            s.set_attribute(kind, OpenInferenceSpanKindValues.TOOL.value)
            s.set_attribute(SpanAttributes.TOOL_NAME, "get_order")
            s.set_attribute(SpanAttributes.INPUT_VALUE, json.dumps(ORDER))
            s.set_attribute(SpanAttributes.OUTPUT_VALUE, json.dumps(STATUS))
        with tracer.start_as_current_span("ChatOpenAI") as s:
            s.set_attribute(kind, OpenInferenceSpanKindValues.LLM.value)
            s.set_attribute(SpanAttributes.LLM_MODEL_NAME, "gpt-4o-mini")
            s.set_attributes(_oi_messages(SpanAttributes.LLM_INPUT_MESSAGES, history + [
                {"role": "assistant", "tool_calls": [call]},
                {"role": "tool", "tool_call_id": "call_a", "content": json.dumps(STATUS)}]))
            s.set_attributes(_oi_messages(SpanAttributes.LLM_OUTPUT_MESSAGES,
                                          [{"role": "assistant", "content": ANSWER}]))
