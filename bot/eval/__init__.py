"""``qabot eval``: run a Q&A set through the chat's own chain, score it without an LLM, gate on a baseline.

One module per job: :mod:`bot.eval.dataset` (read and validate the JSONL set), :mod:`bot.eval.metrics`
(deterministic scores), :mod:`bot.eval.judge` (optional LLM judge), :mod:`bot.eval.baseline` (the
committed figures and the regression gate), :mod:`bot.eval.report` (report.html), :mod:`bot.eval.compare`
(``--compare naive``) and :mod:`bot.eval.run` (the command that ties them together).
"""
