"""Langfuse, LangSmith and OpenAI Responses fixtures built from the SDKs' own models:
`langfuse.api` ObservationV2 (the SDK's parse_obj_as and jsonable_encoder),
`langsmith.schemas.Run(...).model_dump_json()`, LangChain messages serialised by
`langchain_core.load.dumpd`, and `openai.types.responses` models."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from langchain_core.documents import Document
from langchain_core.load import dumpd
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
from langfuse.api import ObservationV2
from langfuse.api.core.jsonable_encoder import jsonable_encoder
from langfuse.api.core.pydantic_utilities import parse_obj_as
from langsmith.schemas import Run
from openai.types.responses import Response, ResponseItem
from pydantic import TypeAdapter

from tests.trace_fixtures import ANSWER, DOC, ORDER, QUESTION, STATUS, SYSTEM

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CALL = {"id": "call_1", "type": "function",
        "function": {"name": "get_order", "arguments": json.dumps(ORDER)}}


def _at(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def observation(**fields) -> dict:
    """One observation as the Observations API v2 answers it (input/output as raw strings),
    parsed and dumped by the SDK's own model."""
    for key in ("input", "output"):
        if key in fields and not isinstance(fields[key], str):
            fields[key] = json.dumps(fields[key])
    return jsonable_encoder(parse_obj_as(ObservationV2, {"projectId": "proj-1", **fields}))


def langfuse_observations(trace: str = "lf-trace-1", start: float = 0, fail_tool: bool = False,
                          session: str | None = "lf-session-1", with_llm: bool = True
                          ) -> list[dict]:
    """A support turn as Langfuse records it: root span, retriever, generation calling a tool,
    the tool, a generation answering."""
    common = {"traceId": trace, "sessionId": session, "userId": "u-7", "traceName": "support",
              "tags": ["prod", "web"], "environment": "production"}
    question = f"{QUESTION} (ticket {trace})"  # each trace its own conversation
    history = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": question}]
    obs = [observation(id=f"{trace}-root", type="SPAN", name="support", startTime=_at(start),
                       endTime=_at(start + 5), isRootObservation=True, input=question,
                       output=ANSWER, **common),
           observation(id=f"{trace}-kb", type="RETRIEVER", name="kb-search",
                       parentObservationId=f"{trace}-root", startTime=_at(start + 0.5),
                       input={"query": QUESTION}, output=[{"page_content": DOC, "metadata": {
                           "source": "kb/shipping.md"}}], **common)]
    if not with_llm:
        return obs
    obs += [observation(id=f"{trace}-gen1", type="GENERATION", name="chat",
                        parentObservationId=f"{trace}-root", startTime=_at(start + 1),
                        model="gpt-4o", usageDetails={"input": 100, "output": 10},
                        input=history, output={"role": "assistant", "content": None,
                                               "tool_calls": [CALL]}, **common),
            observation(id=f"{trace}-tool", type="TOOL", name="get_order",
                        parentObservationId=f"{trace}-root", startTime=_at(start + 2),
                        input=ORDER, output=None if fail_tool else STATUS,
                        level="ERROR" if fail_tool else "DEFAULT",
                        statusMessage="orders service timed out" if fail_tool else None,
                        **common)]
    if fail_tool:
        return obs
    return obs + [observation(
        id=f"{trace}-gen2", type="GENERATION", name="chat", parentObservationId=f"{trace}-root",
        startTime=_at(start + 3), model="gpt-4o", usageDetails={"input": 150, "output": 20},
        input=history + [{"role": "assistant", "content": None, "tool_calls": [CALL]},
                         {"role": "tool", "tool_call_id": "call_1", "content": json.dumps(STATUS)}],
        output={"role": "assistant", "content": ANSWER}, **common)]


def langfuse_download(trace: str = "lf-trace-1", **kw) -> dict:
    """The UI's legacy `trace-<id>.json`: `{trace, observations}`. Langfuse 5's SDK has no
    trace model, so the trace object holds the fields the UI writes; observations and scores
    are the SDK's."""
    trace_obj = {"id": trace, "name": "support", "timestamp": _at(0), "userId": "u-7",
                 "sessionId": "lf-session-1", "tags": ["prod", "web"], "release": "1.4.2",
                 "metadata": {"channel": "web", "customer_tier": "pro"}}
    scores = [{"id": "s1", "traceId": trace, "name": "user_feedback", "value": 0,
               "dataType": "NUMERIC"}]
    return {"trace": trace_obj, "observations": langfuse_observations(trace, **kw),
            "scores": scores}


def _run(trace_id: uuid.UUID, run_id: uuid.UUID, parent: uuid.UUID | None, order: str,
         start: float, **fields) -> dict:
    when = T0 + timedelta(seconds=start)
    stamp = when.strftime("%Y%m%dT%H%M%S%fZ")
    dotted = f"{order}.{stamp}{run_id}" if order else f"{stamp}{run_id}"
    run = Run(id=run_id, trace_id=trace_id, parent_run_id=parent, dotted_order=dotted,
              start_time=when, end_time=when + timedelta(seconds=0.5),
              session_id=uuid.UUID(int=7), **fields)
    return json.loads(run.model_dump_json())


def langsmith_runs(seed: int = 1, thread: str = "thread-1", fail_tool: bool = False,
                   openai_style: bool = False) -> list[dict]:
    """A LangGraph-style agent trace: chain root, retriever, chat model calling a tool (as
    LangChain serialises messages, or OpenAI style), the tool, the answering chat model."""
    ids = [uuid.UUID(int=seed * 100 + i) for i in range(6)]
    trace = ids[0]
    root = _run(trace, trace, None, "", 0, name="support_agent", run_type="chain",
                inputs={"question": QUESTION}, outputs={"answer": ANSWER}, tags=["prod"],
                extra={"metadata": {"thread_id": thread, "channel": "web",
                                    "ls_run_depth": 0}})
    dotted = root["dotted_order"]
    question = f"{QUESTION} (ticket {seed})"  # each trace its own conversation
    history = [SystemMessage(SYSTEM), HumanMessage(question)]
    call = AIMessage("", tool_calls=[{"name": "get_order", "args": ORDER, "id": "call_1"}])
    tool_msg = ToolMessage(json.dumps(STATUS), tool_call_id="call_1", name="get_order")
    if openai_style:
        llm_in = {"messages": [{"role": "system", "content": SYSTEM},
                               {"role": "user", "content": question}], "model": "gpt-4o"}
        llm_out = {"choices": [{"message": {"role": "assistant", "content": None,
                                            "tool_calls": [CALL]}}]}
    else:
        llm_in = {"messages": [[dumpd(m) for m in history]]}
        llm_out = {"generations": [[{"text": "", "message": dumpd(call), "type": "ChatGeneration"}]]}
    extra = {"metadata": {"ls_model_name": "gpt-4o", "thread_id": thread},
             "invocation_params": {"model": "gpt-4o", "tools": [
                 {"type": "function", "function": {"name": "get_order", "parameters": {}}}]}}
    runs = [root,
            _run(trace, ids[1], trace, dotted, 0.1, name="kb", run_type="retriever",
                 inputs={"query": QUESTION},
                 outputs={"documents": [dumpd(Document(DOC, metadata={"source": "kb/ship.md"}))]}),
            _run(trace, ids[2], trace, dotted, 1, name="ChatOpenAI", run_type="llm", inputs=llm_in,
                 outputs=llm_out, extra=extra, prompt_tokens=100, completion_tokens=10),
            _run(trace, ids[3], trace, dotted, 2, name="get_order", run_type="tool",
                 inputs={"input": json.dumps(ORDER)},
                 outputs=None if fail_tool else {"output": dumpd(tool_msg)},
                 error="TimeoutError('orders service')" if fail_tool else None)]
    if not fail_tool:
        answer_in = {"messages": [[dumpd(m) for m in (*history, call, tool_msg)]]}
        answer_out = {"generations": [[{"text": ANSWER, "message": dumpd(AIMessage(ANSWER)),
                                        "type": "ChatGeneration"}]]}
        runs.append(_run(trace, ids[4], trace, dotted, 3, name="ChatOpenAI", run_type="llm",
                         inputs=answer_in, outputs=answer_out, extra=extra, prompt_tokens=150,
                         completion_tokens=20))
    return runs


_ITEM = TypeAdapter(ResponseItem)


def responses_line(rid: str = "resp_1", conversation: str | None = None, failed: bool = False
                   ) -> dict:
    """One conversation as `responses.retrieve` + `input_items.list` give it, from the SDK's
    models: input items, then the output (a tool call, its output is the next input...)."""
    given = [_ITEM.validate_python(i).model_dump(mode="json", exclude_none=True) for i in [
        {"type": "message", "id": "msg_u1", "role": "user", "status": "completed",
         "content": [{"type": "input_text", "text": f"{QUESTION} ({rid})"}]},
        {"type": "function_call", "id": "fc_1", "call_id": "call_1", "name": "get_order",
         "arguments": json.dumps(ORDER), "status": "completed"},
        {"type": "function_call_output", "id": "fco_1", "call_id": "call_1",
         "output": json.dumps(STATUS), "status": "completed"}]]
    output = [] if failed else [
        {"type": "file_search_call", "id": "fs_1", "status": "completed", "queries": [QUESTION],
         "results": [{"file_id": "file-1", "filename": "shipping.md", "score": 0.7, "text": DOC}]},
        {"type": "message", "id": "msg_a1", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": ANSWER, "annotations": []}]}]
    response = Response.model_validate({
        "id": rid, "object": "response", "created_at": T0.timestamp(), "model": "gpt-4o",
        "instructions": SYSTEM, "output": output, "parallel_tool_calls": True,
        "tool_choice": "auto", "status": "failed" if failed else "completed",
        "error": {"code": "server_error", "message": "The model failed"} if failed else None,
        "conversation": {"id": conversation} if conversation else None,
        "tools": [{"type": "function", "name": "get_order", "parameters": {"type": "object"},
                   "strict": True}],
        "usage": {"input_tokens": 80, "output_tokens": 15, "total_tokens": 95,
                  "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                  "output_tokens_details": {"reasoning_tokens": 0}}})
    return {**response.model_dump(mode="json", exclude_none=True), "input": given}
