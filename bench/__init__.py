"""falflow's benchmarks: `python -m bench` measures every figure and rewrites docs/benchmarks.md.

`python -m bench --smoke` runs a scaled-down pass of the server-side figures (no browser) and
writes its report elsewhere, so CI can prove the harness still works without recording numbers.
"""
