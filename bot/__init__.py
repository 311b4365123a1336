"""qabot: answer questions about a collection of Chinese articles, only from them, with verbatim citations.

A question flows: ``bot.chain.answer`` → ``bot.rewrite`` (follow-ups) → ``bot.retrieve`` (hybrid dense + BM25)
→ a provider from ``bot.providers`` (extractive by default, or an LLM) → ``bot.citations`` (verify every quote).
"""
