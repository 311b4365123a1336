"""Answer providers: each turns a question and its numbered passages into a draft answer.

The contract every provider keeps (so retrieval and citation checking never change when one is added):

- ``runnable(settings)`` returns a LangChain ``Runnable`` whose input is
  ``{"question": str, "analysis": Question, "hits": list[Hit], "ranked": list[Sentence]}`` (the
  standalone question, its analysis by ``bot.question``, the passages, and their sentences as
  ``bot.ranker`` ranks them, best first) and whose output is the answer text (a ``str``; ``.stream()``
  yields pieces of it). Each sentence ends with ``[n]`` markers, ``n`` being the 1-based position of the
  supporting passage in ``hits``. The exact refusal sentence ``bot.config.REFUSAL`` means "not in the
  passages".
- A provider whose model writes from chosen sentences rather than whole passages (``local``) says which
  with ``evidence(inputs, settings)``: its verified answer must keep their figures and names, or the
  chain quotes them instead (``bot.citations.lost_facts``).
- On failure it raises (any exception). ``bot.chain`` then answers with the extractive provider and the
  notice ``LLM_UNAVAILABLE_NOTICE``, or the exception's own ``notice`` (a sentence for the user naming the
  cause, e.g. the local model's crash); ``bot.citations`` checks every sentence of whatever came back.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.runnables import Runnable

    from bot.config import Settings
    from bot.evidence import Sentence

# name → module in this package that defines ``runnable(settings) -> Runnable``.
# Imported lazily: the LLM providers pull in clients the extractive default does not need.
PROVIDERS: dict[str, str] = {
    "extractive": "bot.providers.extractive",
    "openai": "bot.providers.openai",
    "local": "bot.providers.local",
}


def get_runnable(name: str, settings: Settings) -> Runnable:
    """The provider's runnable, or ``ValueError`` naming the known providers."""
    if name not in PROVIDERS:
        raise ValueError(f"unknown provider {name!r}; choose one of: {', '.join(PROVIDERS)}")
    return import_module(PROVIDERS[name]).runnable(settings)


def evidence(name: str, settings: Settings, inputs: dict) -> list[Sentence] | None:
    """The sentences the provider's model wrote from, if it is given chosen sentences (see above); None
    for a provider that reads whole passages or none."""
    chosen = getattr(import_module(PROVIDERS[name]), "evidence", None)
    return chosen(inputs, settings) if chosen else None
