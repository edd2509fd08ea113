"""Engines chosen by name: a registry of factories, each with the keyword options (settings) it
takes and what of the speaker it reads. The voice and face stages each keep one."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Registration[Engine]:
    factory: Callable[..., Engine]
    options: frozenset[str]  # keyword options of the factory (the engine's settings)
    inputs: frozenset[str]  # what of a speaker it reads: "voice_samples", "voice_profile"


class Plugins[Engine]:
    def __init__(self, kind: str):
        self.kind = kind  # "voice", "face": for messages
        self._registry: dict[str, Registration] = {}

    def register(
        self,
        name: str,
        factory: Callable[..., Engine],
        *,
        options: Iterable[str] = (),
        inputs: Iterable[str] = (),
    ) -> None:
        """Register ``factory`` as ``name``. ``options``: the keyword options it takes;
        ``inputs``: what the engine reads of the speaker."""
        self._registry[name] = Registration(factory, frozenset(options), frozenset(inputs))

    def names(self) -> list[str]:
        return sorted(self._registry)

    def options(self, name: str) -> frozenset[str]:
        """The keyword options the engine ``name`` takes (e.g. "weights_dir", "device")."""
        return self._registration(name).options

    def inputs(self, name: str) -> frozenset[str]:
        return self._registration(name).inputs

    def get(self, name: str, **options: str) -> Engine:
        """The engine registered as ``name``, built with those of ``options`` it takes (a site
        sets every engine's options and uses one); ValueError lists the known names."""
        registration = self._registration(name)
        known = set().union(*(r.options for r in self._registry.values()))
        unknown = sorted(set(options) - known)
        if unknown:
            raise TypeError(f"No {self.kind} engine takes the option {', '.join(unknown)}.")
        return registration.factory(
            **{key: value for key, value in options.items() if key in registration.options}
        )

    def _registration(self, name: str) -> Registration:
        if name not in self._registry:
            known = ", ".join(self.names())
            raise ValueError(f"Unknown {self.kind} engine '{name}'; choose one of: {known}.")
        return self._registry[name]
