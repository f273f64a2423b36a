"""Reading configurations and declaring configuration keys."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Iterator, Optional, Union

from wit_world.imports import config_def as cd

from .errors import Fatal

_TRUE = ("true",)
_FALSE = ("false",)


def to_text(value: Any) -> str:
    """A Python value as configuration text (``True`` is ``"true"``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(to_text(v) for v in value)
    return str(value)


class Config(Mapping):
    """A connector configuration: Kafka Connect's ``Map<String, String>``.

    Behaves as a read-only ``dict`` (``config["file"]``, ``config.get("file")``,
    ``"file" in config``); when a key repeats, the last value wins. Typed
    getters raise :class:`Fatal` naming the key when a value does not parse.
    """

    def __init__(self, pairs: Union[Iterable, Mapping, None] = ()) -> None:
        if pairs is None:
            pairs = ()
        if isinstance(pairs, Mapping):
            pairs = pairs.items()
        self._values: dict = {}
        for key, value in pairs:
            self._values.pop(key, None)  # keep the order of the last occurrence
            self._values[str(key)] = to_text(value)

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Config({self._values!r})"

    def text(self, key: str, default: Optional[str] = None) -> Optional[str]:
        """The value of ``key`` when set and not blank, else ``default``."""
        value = self._values.get(key)
        if value is None or not value.strip():
            return default
        return value

    def required(self, key: str) -> str:
        """The value of ``key``; :class:`Fatal` when unset or blank."""
        value = self.text(key)
        if value is None:
            raise Fatal(f'Missing required configuration "{key}"')
        return value

    def _parse(self, key: str, default: Any, parse, what: str) -> Any:
        raw = self.text(key)
        if raw is None:
            return default
        try:
            return parse(raw.strip())
        except ValueError:
            raise Fatal(f"Invalid value {raw} for configuration {key}: {what}") from None

    def int(self, key: str, default: Optional[int] = None) -> Optional[int]:
        """``key`` as an integer, or ``default`` when unset."""
        return self._parse(key, default, int, "Not a number")

    def float(self, key: str, default: Optional[float] = None) -> Optional[float]:
        """``key`` as a float, or ``default`` when unset."""
        return self._parse(key, default, float, "Not a number")

    def bool(self, key: str, default: Optional[bool] = None) -> Optional[bool]:
        """``key`` as a boolean (``true``/``false``, any case), or ``default``."""

        def parse(raw: str) -> bool:
            low = raw.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(raw)

        return self._parse(key, default, parse, "Expected value to be either true or false")

    def list(self, key: str, default: Optional[list] = None) -> Optional[list]:
        """``key`` as a comma-separated list (items trimmed, empties dropped)."""
        raw = self._values.get(key)
        if raw is None:
            return default
        return [item.strip() for item in raw.split(",") if item.strip()]

    def with_values(self, values: Union[Mapping, None] = None, **more: Any) -> "Config":
        """A copy with some keys set (``config.with_values({"task.index": 2})``)."""
        merged = dict(self._values)
        for key, value in {**(values or {}), **more}.items():
            merged[key] = to_text(value)
        return Config(merged)

    def pairs(self) -> "list[tuple[str, str]]":
        """The configuration as the WIT ``config`` (a list of pairs)."""
        return list(self._values.items())


def to_pairs(config: Any) -> "list[tuple[str, str]]":
    """A :class:`Config`, mapping or iterable of pairs as WIT ``config``."""
    if isinstance(config, Config):
        return config.pairs()
    return Config(config).pairs()


def _enum(enum_type, value, what: str):
    if value is None or isinstance(value, enum_type):
        return value
    name = str(value).strip().upper().replace("-", "_").replace(".", "_")
    try:
        return enum_type[name]
    except KeyError:
        choices = ", ".join(m.name.lower().replace("_", "-") for m in enum_type)
        raise ValueError(f"unknown {what} {value!r}; one of {choices}") from None


def Key(
    name: str,
    type: Any = "string",
    doc: str = "",
    *,
    default: Any = None,
    required: bool = False,
    importance: Any = "medium",
    resource: Any = None,
    group: Optional[str] = None,
    order: int = -1,
    width: Any = "none",
    display_name: str = "",
    dependents: Iterable = (),
):
    """One configuration key (WIT ``config-key``), with Kafka's defaults.

    ``type`` is one of ``"boolean" "string" "int" "short" "long" "double"
    "list" "class" "password"``; ``importance`` one of ``"high" "medium"
    "low"``; ``resource`` one of ``"read-file" "write-file" "read-directory"
    "write-directory" "network-endpoint" "url"`` (the host grants the
    connector exactly what keys marked this way name). ``default`` may be a
    Python value (``True`` becomes ``"true"``). The WIT enums are accepted too.
    """

    if required and default is not None:
        raise ValueError(f"key {name}: a required key has no default")
    return cd.ConfigKey(
        name=name,
        type=_enum(cd.ConfigType, type, "config type"),
        required=bool(required),
        default_value=None if default is None else to_text(default),
        importance=_enum(cd.Importance, importance, "importance"),
        documentation=doc,
        group=group,
        order_in_group=int(order),
        width=_enum(cd.Width, width, "width"),
        # Kafka's ConfigDef shows a key without a display name by its name.
        display_name=display_name or name,
        dependents=list(dependents),
        resource=_enum(cd.ResourceKind, resource, "resource kind"),
    )


def config_value(name: str, value: Optional[str], errors: Iterable = (),
                 recommended: Iterable = (), visible: bool = True):
    """A WIT ``config-value``: what ``validate`` reports about one key."""

    return cd.ConfigValue(
        name=name,
        value=value,
        recommended_values=[to_text(v) for v in recommended],
        errors=[str(e) for e in errors],
        visible=visible,
    )


def to_config_values(result: Any, config: Config) -> list:
    """Normalizes what an author's ``validate`` returned: ``None``, a dict
    ``{key: message or [messages]}``, or a list of ``config-value``s. Keys
    without errors are left out, as the contract asks."""
    if not result:
        return []
    if isinstance(result, Mapping):
        values = []
        for key, errors in result.items():
            if errors is None:
                continue
            if isinstance(errors, str):
                errors = [errors]
            errors = [str(e) for e in errors]
            if errors:
                values.append(config_value(key, config.get(key), errors))
        return values
    return [v for v in result if v.errors]
