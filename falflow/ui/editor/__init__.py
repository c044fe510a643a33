"""The node editor page: a React Flow canvas, autosave with the version guard, and live runs.

`canvas` wraps the hand-written React component in `assets/flow/`. `state` owns the
authoritative document and saves it. `run_state` starts, cancels and follows runs. The pure
modules `changes`, `checks` and `run_summary` contain the rules, so tests need no browser.
"""
