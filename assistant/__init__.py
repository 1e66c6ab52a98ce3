"""Opgave-assistent: grounded, cited answers on asylum reception, the taakstelling huisvesting
vergunninghouders and the reception of displaced Ukrainians."""

from __future__ import annotations

__all__ = ["Assistant"]


def __getattr__(name: str):
    # Lazy so that `assistant db …` does not pay for the engine's imports.
    if name == "Assistant":
        from .engine import Assistant

        return Assistant
    raise AttributeError(name)
