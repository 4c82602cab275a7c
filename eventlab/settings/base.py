"""The machinery every settings declaration shares: one `setting()` per field (type, default,
bounds, a one-line description and an example that works), one base class, and ONE function
(`config_error`) that turns a failed validation into ConfigError naming the field as the user
types it (`study.gap_threshold` in Python, `resources.study_settings.config.gap_threshold` on the
launchpad or in a --config YAML, `EVENTLAB_LOCK_TIMEOUT_S` in the environment), the problem in
words derived from the declared bounds, and a fix quoting the declared example.

Cross-field rules raise `ConfigError(<field>, problem, fix)` with the bare field name from a
model validator; `config_error` prefixes the path the user typed.
"""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Mapping
from typing import Any, ClassVar, Self

import annotated_types as at
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo
from pydantic.json_schema import JsonDict

from eventlab.errors import ConfigError

_MISSING: Any = object()


def setting(
    default: Any = _MISSING,
    description: str = "",
    *,
    example: str,
    hint: str = "",
    unit: str = "",
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    each: Mapping[str, float] | None = None,
    nonempty: bool = False,
    distinct: bool = False,
    launchpad: bool = True,
) -> Any:
    """One setting: its default, a one-line description, numeric bounds (ge/gt/le/lt for the
    value, `each` for every item of a tuple), the example a fix suggests (`hint` explains it),
    the unit the range is given in, and whether the launchpad shows it (launchpad=False: fixed in
    code, or derived from other settings). The description is completed with the range in words
    when the class is built (Settings.__pydantic_init_subclass__)."""
    extra: JsonDict = {
        "example": example,
        "hint": hint,
        "unit": unit,
        "each": dict(each or {}),
        "distinct": distinct,
        "launchpad": launchpad,
    }
    return Field(
        default,
        description=description,
        ge=ge,
        gt=gt,
        le=le,
        lt=lt,
        min_length=1 if nonempty else None,
        examples=[example],
        json_schema_extra=extra,
    )


# ----------------------------------------------------------------------------- words from bounds


def _extra(field: FieldInfo) -> dict[str, Any]:
    extra = field.json_schema_extra
    return extra if isinstance(extra, dict) else {}


def _bounds(field: FieldInfo) -> dict[str, float]:
    out: dict[str, float] = {}
    for m in field.metadata:
        for kind in ("ge", "gt", "le", "lt"):
            if isinstance(m, getattr(at, kind.capitalize())):
                out[kind] = getattr(m, kind)
    return out


def _base_type(annotation: Any) -> Any:
    """int for `int`, `int | None`, `tuple[int, ...]`; the type itself otherwise."""
    origin = typing.get_origin(annotation)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(args[0]) if len(args) == 1 else annotation
    if origin is tuple:
        items = typing.get_args(annotation)
        return _base_type(items[0]) if len(items) == 2 and items[1] is Ellipsis else annotation
    return annotation


def _is_integer(field: FieldInfo) -> bool:
    return _base_type(field.annotation) is int


def range_words(bounds: Mapping[str, float], integer: bool = False, unit: str = "") -> str:
    """'from 1 to 600 seconds', 'above 0 and at most 10', 'an integer from 1 to 16', ''."""
    if not bounds:
        return ""
    kind = "an integer " if integer else ""
    unit = f" {unit}" if unit else ""
    lo = f"above {bounds['gt']:g}" if "gt" in bounds else None
    lo = f"at least {bounds['ge']:g}" if "ge" in bounds else lo
    hi = f"below {bounds['lt']:g}" if "lt" in bounds else None
    hi = f"at most {bounds['le']:g}" if "le" in bounds else hi
    if "ge" in bounds and "le" in bounds:
        return f"{kind}from {bounds['ge']:g} to {bounds['le']:g}{unit}"
    return f"{kind}{' and '.join(x for x in (lo, hi) if x)}{unit}"


def field_range(field: FieldInfo) -> str:
    """The declared range of a field (or of each item of a tuple) in words."""
    extra = _extra(field)
    if extra.get("each"):
        what = "integers" if _is_integer(field) else "numbers"
        distinct = "distinct " if extra.get("distinct") else ""
        return f"{distinct}{what} {range_words(extra['each'], False, extra.get('unit', ''))} each"
    return range_words(_bounds(field), _is_integer(field), extra.get("unit", ""))


def _fix(field: FieldInfo | None) -> str:
    if field is None:
        return "see the declaration in eventlab/settings/"
    extra = _extra(field)
    return f"use {extra.get('example')}" + (f" {extra['hint']}" if extra.get("hint") else "")


def _shown(value: Any) -> str:
    if isinstance(value, tuple | list):
        return repr([_shown_item(v) for v in value])
    return repr(_shown_item(value))


def _shown_item(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


# ----------------------------------------------------------------------------- the one derivation


def join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def config_error(
    exc: ValidationError, model: type[Settings], values: Mapping[str, Any], prefix: str
) -> ConfigError:
    """THE translation of a failed validation into ConfigError: the field's path as the user
    types it (`prefix` + field name), the problem in words (the declared range, the allowed
    values, the date format) and a fix quoting the declared example."""
    err = exc.errors()[0]
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, ConfigError):  # a cross-field rule of the model
        name = cause.field_name
        return ConfigError(join(prefix, name), cause.problem, cause.fix)
    loc = err.get("loc") or ()
    name = str(loc[0]) if loc else ""
    path = join(prefix, name)
    field = model.model_fields.get(name)
    kind = err["type"]
    if field is None:
        allowed = ", ".join(model.model_fields)
        return ConfigError(path, "is not a setting of this group", f"use one of {allowed}")
    got = values.get(name, err.get("input"))
    fix = _fix(field)
    if kind == "literal_error":
        literals = [repr(a) for a in typing.get_args(_base_type(field.annotation))]
        return ConfigError(path, f"must be one of {', '.join(literals)}, got {_shown(got)}", fix)
    if kind.startswith(("date", "datetime")):
        bad = err.get("input")
        return ConfigError(
            path,
            f"{bad!r} is not an ISO date",
            f"write it as YYYY-MM-DD, e.g. {_extra(field).get('example')}",
        )
    if kind == "too_short":
        return ConfigError(
            path, "is empty", f"give at least one value, e.g. {_extra(field).get('example')}"
        )
    words = field_range(field)
    if kind.endswith("_parsing") and kind.split("_")[0] in ("float", "int", "bool"):
        what = {"float": "a number", "int": "an integer", "bool": "true or false"}[
            kind.split("_")[0]
        ]
        within = f": it must be {words}" if words else ""
        return ConfigError(path, f"{_shown(got)} is not {what}{within}", fix)
    if words:
        return ConfigError(path, f"must be {words}, got {_shown(got)}", fix)
    return ConfigError(path, f"{_shown(got)} is not valid ({err['msg'].lower()})", fix)


if typing.TYPE_CHECKING:  # pydantic's metaclass lives in a private module: named for mypy only
    from pydantic._internal._model_construction import ModelMetaclass as _ModelMeta
else:
    _ModelMeta = type(BaseModel)


class _SettingsMeta(_ModelMeta):
    """Building settings in Python (`StudyParams(gap_threshold=2)`) raises ConfigError like the
    launchpad does. (On the metaclass, not __init__: an overridden __init__ would make pydantic
    route model_validate through it and drop the validation context.)"""

    def __call__(cls, *args: Any, **data: Any) -> Any:
        try:
            return super().__call__(*args, **data)
        except ValidationError as exc:
            model = typing.cast("type[Settings]", cls)
            raise config_error(exc, model, data, model.SECTION) from None


class Settings(BaseModel, metaclass=_SettingsMeta):
    """A frozen group of settings. Subclasses declare `SECTION` (the name in Python messages,
    e.g. 'study') and their fields with `setting()`. Building one validates every field and
    cross-field rule and raises ConfigError (never pydantic's ValidationError)."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False)
    SECTION: ClassVar[str] = ""

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        for field in cls.model_fields.values():
            words = field_range(field)
            if words and field.description and "Range:" not in field.description:
                field.description = f"{field.description} Range: {words}."

    @classmethod
    def launchpad_fields(cls) -> tuple[str, ...]:
        """Fields a user may set from the launchpad / a --config YAML."""
        return tuple(n for n, f in cls.model_fields.items() if _extra(f).get("launchpad", True))

    @classmethod
    def from_config(
        cls,
        cfg: Mapping[str, Any],
        prefix: str,
        *,
        context: Mapping[str, Any] | None = None,
        launchpad_only: bool = True,
    ) -> Self:
        """Validated settings from plain values (a run config's `config` mapping, ISO date
        strings, lists), defaults for missing fields; any failure is ConfigError at `prefix`."""
        allowed = cls.launchpad_fields() if launchpad_only else tuple(cls.model_fields)
        extra = sorted(set(cfg) - set(allowed))
        if extra:
            raise ConfigError(
                join(prefix, extra[0]),
                "is not a setting of this resource",
                f"use one of {', '.join(allowed)}",
            )
        try:
            return cls.model_validate(dict(cfg), context=dict(context or {}))
        except ValidationError as exc:
            raise config_error(exc, cls, cfg, prefix) from None

    def with_(self, **changes: object) -> Self:
        """A copy with some fields changed, unchecked (like dataclasses.replace): variants such as
        a ticker as the index are built from valid settings by code, not typed by a user."""
        return self.model_copy(update=changes)

    def checked(self, **context: Any) -> Self:
        """Re-validate every field and rule (with a context such as the known series keys)."""
        return type(self).from_config(
            self.model_dump(), self.SECTION, context=context, launchpad_only=False
        )

    @model_validator(mode="after")
    def _check_items(self) -> Self:
        """Per-item bounds (`each`) and distinctness declared by `setting()`."""
        for name, field in type(self).model_fields.items():
            extra = _extra(field)
            value = getattr(self, name)
            if not isinstance(value, tuple):
                continue
            each = extra.get("each") or {}
            ok = all(_within(v, each) and (not _is_integer(field) or _whole(v)) for v in value)
            if extra.get("distinct") and len(set(value)) != len(value):
                ok = False
            if not ok:
                words = field_range(field) if each else "distinct values"
                raise ConfigError(name, f"must be {words}, got {_shown(value)}", _fix(field))
        return self


def _whole(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _within(v: Any, b: Mapping[str, float]) -> bool:
    return (
        ("ge" not in b or v >= b["ge"])
        and ("gt" not in b or v > b["gt"])
        and ("le" not in b or v <= b["le"])
        and ("lt" not in b or v < b["lt"])
    )
