"""Every SQL statement Triage runs, by table: each module takes a `Database` and returns
frozen dataclasses or plain values. Pages and the CLI never write SQL themselves."""
