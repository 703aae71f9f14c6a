"""Trace readers: OpenTelemetry (GenAI semantic conventions, OpenInference), Langfuse, LangSmith
and OpenAI Responses items, each turned into normalised spans (spans.py) and, one trace or
session at a time, into the transcript record of the data contract (transcript.py)."""
