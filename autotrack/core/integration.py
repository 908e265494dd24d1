"""The integration base class and the options every integration shares.

An integration is data (``name``, ``distribution``, ``supports``, ``triggers``, ``settings``) plus
two verbs, ``apply`` and ``remove``. Its defining module must not import the library it patches:
``apply`` runs only after one of ``triggers`` has been imported by the user, and imports what it
needs there.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType, ModuleType

TYPE_CHECKING = False  # typing costs ms at import; annotations are strings here anyway
if TYPE_CHECKING:  # pragma: no cover
    from typing import Any, ClassVar

    from autotrack.core.patching import Patcher

# Options accepted by every integration, with their defaults. ``disable`` and ``exclusive`` etc.
# follow MLflow's autolog() names so code written for MLflow keeps its meaning.
COMMON_OPTIONS: Mapping[str, Any] = MappingProxyType({
    "disable": False,
    "exclusive": False,
    "silent": False,
    "log_models": True,
    "log_datasets": True,
    "log_input_examples": True,
    "log_model_signatures": True,
    "extra_tags": None,
    "disable_for_unsupported_versions": False,
})
_BOOL_OPTIONS = frozenset(k for k, v in COMMON_OPTIONS.items() if isinstance(v, bool))


class AutologConfig(Mapping):
    """The effective, read-only options of one integration (common options plus its settings).

    Values are reachable as attributes (``config.log_models``) and as a mapping.
    """

    def __init__(self, values: Mapping[str, Any]) -> None:
        values = dict(values)
        object.__setattr__(self, "_values", values)
        # Options are also instance attributes: hooks read them on every patched call, and a plain
        # attribute costs ~30 ns where a failed lookup falling back to __getattr__ costs ~450 ns.
        # A name the class itself defines (a Mapping method) stays the method, as before.
        for name, value in values.items():
            if not hasattr(AutologConfig, name):
                object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        if name == "_values":  # unpickling looks up attributes before __init__ has set _values
            raise AttributeError(name)
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"autolog option {name!r} does not exist") from None

    def __reduce__(self):
        return (AutologConfig, (self._values,))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("AutologConfig is read-only; call autolog() again to change options")

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"AutologConfig({self._values!r})"


def validate_options(owner: str, options: Mapping[str, Any], accepted: Mapping[str, Any]) -> dict[str, Any]:
    """Check option names and types up front; raise naming the option, the value and what is accepted."""
    clean: dict[str, Any] = {}
    for key, value in options.items():
        if key not in accepted:
            raise TypeError(
                f"{owner}() got an unknown option {key!r}; accepted options: {', '.join(sorted(accepted))}"
            )
        if key in _BOOL_OPTIONS and not isinstance(value, bool):
            raise TypeError(f"{owner}(): option {key}={value!r} must be True or False")
        if key == "extra_tags" and value is not None:
            if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
                raise TypeError(
                    f"{owner}(): option extra_tags={value!r} must be a mapping of str tag names to values, or None"
                )
            value = {k: str(v) for k, v in value.items()}
        clean[key] = value
    return clean


def _check_specifier(where: str, spec: str) -> None:
    from autotrack.core.versions import version_matches

    try:
        version_matches("0", spec)
    except ValueError as exc:
        raise TypeError(f"integration {where}: {exc}") from None


class Integration:
    """Base class of every autologging integration (built-in or registered by a third party).

    Subclasses set the class attributes and implement :meth:`apply`. The engine creates one instance
    per configuration, sets :attr:`config`, and calls ``apply(patcher, module)`` once for each trigger
    module when it is imported (immediately if it already is). Every patch made through ``patcher``
    is reverted by the engine; :meth:`remove` is for any other state the integration keeps.
    """

    #: integration name used in ``AUTOTRACK_AUTOLOG``, ``exclude`` and the ``autotrack.autologging`` tag
    name: ClassVar[str] = ""
    #: distribution name whose installed version is checked (``importlib.metadata``)
    distribution: ClassVar[str] = ""
    #: supported versions: a PEP 440 range of ``distribution``, e.g. ``">=1.3,<2"`` (empty: any), or a
    #: mapping ``{distribution: range}`` when the integration works with several distributions, e.g.
    #: ``{"keras": ">=3", "tensorflow": ">=2.16"}`` (keras *or* tensorflow) or ``{"torch": ">=2.1",
    #: "lightning": ">=2.0", "pytorch-lightning": ">=2.0"}`` (torch, lightning optional). With a
    #: mapping, every listed distribution that is installed must be in its range; those not installed
    #: are not checked.
    supports: ClassVar[str | Mapping[str, str]] = ""
    #: modules whose import applies the integration
    triggers: ClassVar[tuple[str, ...]] = ()
    #: integration-specific options and their defaults (on top of the common options)
    settings: ClassVar[Mapping[str, Any]] = MappingProxyType({})

    config: AutologConfig

    def apply(self, patcher: Patcher, module: ModuleType) -> None:
        """Install patches for the just-imported trigger ``module`` through ``patcher``."""
        raise NotImplementedError(f"integration {self.name!r} does not implement apply()")

    def remove(self) -> None:
        """Drop state kept outside patches (patches themselves are reverted by the engine)."""

    @classmethod
    def validate_settings(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """Check this integration's own options (the keys of :attr:`settings` the user passed) and
        return them cleaned; ``autolog()`` calls it before anything is armed.

        Raise ``TypeError`` or ``ValueError`` with a message that names the option, the value and
        what is accepted, e.g. ``"option max_tuning_runs=-1 must be None or an integer >= 0"``; the
        engine prefixes the function the user called. This default only checks that an option
        whose default is True/False gets True or False: override it for anything else (whether
        None is accepted, ranges, choices).
        """
        clean: dict[str, Any] = {}
        for key, value in settings.items():
            if isinstance(cls.settings.get(key), bool) and not isinstance(value, bool):
                raise TypeError(f"option {key}={value!r} must be True or False")
            clean[key] = value
        return clean

    @classmethod
    def supported_ranges(cls) -> dict[str, str]:
        """``{distribution: PEP 440 range}`` that :attr:`supports` declares (empty: nothing to check)."""
        if isinstance(cls.supports, str):
            return {cls.distribution: cls.supports} if cls.distribution and cls.supports else {}
        return dict(cls.supports)

    @classmethod
    def accepted_options(cls) -> dict[str, Any]:
        """Common options plus this integration's settings, with defaults."""
        return {**COMMON_OPTIONS, **cls.settings}

    @classmethod
    def check_definition(cls) -> None:
        """Raise ``TypeError`` if the class data is malformed (checked when the registry loads it)."""
        where = f"{cls.__module__}.{cls.__qualname__}"
        if not cls.name or not isinstance(cls.name, str):
            raise TypeError(f"integration {where}: 'name' must be a non-empty str, got {cls.name!r}")
        if not cls.triggers or not all(isinstance(t, str) and t for t in cls.triggers):
            raise TypeError(f"integration {where}: 'triggers' must be a non-empty tuple of module names")
        if isinstance(cls.supports, Mapping):
            for dist, spec in cls.supports.items():
                if not isinstance(dist, str) or not dist or not isinstance(spec, str):
                    raise TypeError(
                        f"integration {where}: 'supports' entry {dist!r}: {spec!r} must map a distribution "
                        "name to a PEP 440 specifier string, e.g. {'keras': '>=3', 'tensorflow': '>=2.16'}")
                _check_specifier(where, spec)
        elif isinstance(cls.supports, str):
            _check_specifier(where, cls.supports)
        else:
            raise TypeError(
                f"integration {where}: 'supports'={cls.supports!r} must be a PEP 440 specifier string or a "
                "mapping {distribution: specifier}")
        clash = set(cls.settings) & set(COMMON_OPTIONS)
        if clash:
            raise TypeError(f"integration {where}: settings {sorted(clash)} shadow common options")
