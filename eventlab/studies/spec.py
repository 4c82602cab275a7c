"""A study spec: one YAML file under `studies/` holding the question in one sentence, the condition
that makes a day an event, and any study setting it changes (validated by the one declaration,
eventlab/settings/study.py). Loading refuses a bad spec before anything runs, naming the file, line
and column (from the YAML node marks), the offending name and the closest valid names."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]  # no stubs in the lock; the node API is used plainly

from eventlab.config import StudyParams
from eventlab.errors import ConfigError
from eventlab.study.event_rules import GAP_RULE, ConditionRule, EventRule

SPEC_FIELDS = ("name", "question", "condition")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
MAX_SPEC_BYTES = 20_000


class SpecError(ConfigError):
    """A study spec refused: where (file, 1-based line and column), which key, the offending name
    and the closest valid names."""

    def __init__(
        self,
        path: str,
        line: int,
        column: int,
        key: str,
        problem: str,
        fix: str,
        name: str = "",
        suggestions: tuple[str, ...] = (),
    ) -> None:
        super().__init__(key, problem, fix)
        self.path, self.line, self.column = path, line, column
        self.key, self.name, self.suggestions = key, name, tuple(suggestions)
        self.args = (f"{path}:{line}:{column}: `{key}`: {problem}. Fix: {fix}",)

    def __str__(self) -> str:
        return str(self.args[0])

    def __reduce__(self):  # picklable across processes despite the many-argument init
        return (
            type(self),
            (
                self.path,
                self.line,
                self.column,
                self.key,
                self.problem,
                self.fix,
                self.name,
                self.suggestions,
            ),
        )


@dataclass(frozen=True)
class StudySpec:
    """A loaded, validated study: its name (the partition key), question, parsed condition,
    settings, the rule that picks its events, and the file it came from with its content hash."""

    name: str
    question: str
    condition: Any  # eventlab.studies.expression.Condition
    params: StudyParams
    rule: EventRule
    path: str
    sha256: str

    @property
    def condition_text(self) -> str:
        """The condition as written in the spec."""
        return str(self.condition.text)


def closest(word: str, choices: Collection[str], n: int = 3) -> tuple[str, ...]:
    """The valid names closest to a misspelt one (difflib ratio), best first."""
    return tuple(difflib.get_close_matches(word, list(choices), n=n, cutoff=0.5))


def gap_rule_condition(params: StudyParams) -> str:
    """The seed gap rule of `params` written in the condition language: a spec stating exactly
    this condition is the seed study and keeps its robustness rows (other thresholds, the other
    close rule, the near-threshold exclusion)."""
    red = "close[-1]" if params.close_rule == "prior_close" else "open"
    return f"gap > {params.gap_threshold * 100:g}% and close < {red}"


def _normalized(text: str) -> str:
    """The condition with runs of whitespace collapsed (layout does not change its meaning)."""
    return " ".join(text.split())


def rule_for(condition: Any, params: StudyParams) -> EventRule:
    """The seed gap rule when the condition states it (gap_rule_condition), else the condition."""
    if _normalized(condition.text) == gap_rule_condition(params):
        return GAP_RULE
    return ConditionRule(condition, params.index)


def _mark(node: yaml.Node) -> tuple[int, int]:
    """1-based line and column where a YAML node starts."""
    return node.start_mark.line + 1, node.start_mark.column + 1


def _condition_position(node: yaml.Node, line: int, column: int) -> tuple[int, int]:
    """File line and column of a position (1-based) inside a condition scalar: exact for a plain
    or quoted scalar on one line; for a block scalar (| or >) the text starts on the next line
    at the block's indentation."""
    start_line, start_col = _mark(node)
    style = getattr(node, "style", None)
    if style in ("|", ">"):
        indent = _block_indent(node)
        return start_line + line, indent + column
    quote = 1 if style in ("'", '"') else 0
    if line == 1:
        return start_line, start_col + quote + column - 1
    return start_line + line - 1, column


def _block_indent(node: yaml.Node) -> int:
    """The indentation of a block scalar's first content line (0-based column)."""
    buffer = node.start_mark.buffer or ""
    lines = buffer.split("\n")
    for text in lines[node.start_mark.line + 1 :]:
        if text.strip():
            return len(text) - len(text.lstrip())
    return node.start_mark.column


def _document(path: Path, text: str) -> yaml.MappingNode:
    """The spec's YAML as a node tree (positions kept); refused unless it is one mapping."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(
            str(path), line, col, "(yaml)", f"not valid YAML ({problem})", "fix the YAML syntax"
        ) from None
    if not isinstance(node, yaml.MappingNode):
        line, col = _mark(node) if node is not None else (1, 1)
        raise SpecError(
            str(path),
            line,
            col,
            "(file)",
            "a spec is a mapping of keys",
            "start with `name:`, `question:` and `condition:` lines",
        )
    return node


def _entries(path: Path, doc: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node, Any]]:
    """Each key's (key node, value node, plain value); unknown and repeated keys refused."""
    allowed = (*SPEC_FIELDS, *StudyParams.model_fields)
    out: dict[str, tuple[yaml.Node, yaml.Node, Any]] = {}
    for knode, vnode in doc.value:
        key = str(knode.value)
        line, col = _mark(knode)
        if key not in allowed:
            near = closest(key, allowed)
            raise SpecError(
                str(path),
                line,
                col,
                key,
                "is not a spec key or study setting",
                f"use {' or '.join(near) if near else 'one of ' + ', '.join(allowed)}",
                name=key,
                suggestions=near,
            )
        if key in out:
            raise SpecError(str(path), line, col, key, "is given twice", "keep one", name=key)
        out[key] = (knode, vnode, yaml.safe_load(yaml.serialize(vnode)))
    for key in SPEC_FIELDS:
        if key not in out:
            raise SpecError(str(path), 1, 1, key, "is missing", f"add a `{key}:` line", name=key)
    return out


def _text_field(path: Path, entries: Mapping[str, Any], key: str) -> str:
    """A required non-empty string field."""
    _, vnode, value = entries[key]
    if not isinstance(value, str) or not value.strip():
        line, col = _mark(vnode)
        raise SpecError(
            str(path), line, col, key, f"must be non-empty text, got {value!r}", "write it as text"
        )
    return value.strip()


def _params(path: Path, entries: Mapping[str, Any], series_keys: tuple[str, ...]) -> StudyParams:
    """The study settings the spec overrides, validated by the declaration; a failure points at
    the offending key's value."""
    overrides = {k: v for k, (_, _, v) in entries.items() if k not in SPEC_FIELDS}
    try:
        return StudyParams.from_config(
            overrides, "", context={"series_keys": series_keys}, launchpad_only=False
        )
    except ConfigError as exc:
        key = exc.field_name
        node = entries[key][1] if key in entries else None
        line, col = _mark(node) if node is not None else (1, 1)
        value = overrides.get(key)
        near = closest(str(value), series_keys) if isinstance(value, str) else ()
        raise SpecError(
            str(path), line, col, key, exc.problem, exc.fix, name=str(value), suggestions=near
        ) from None


def _condition(
    path: Path, entries: Mapping[str, Any], params: StudyParams, series_keys: tuple[str, ...]
) -> Any:
    """The parsed condition; a ConditionError becomes a SpecError at its place in the file."""
    from eventlab.studies.expression import ConditionError, parse_condition

    text = _text_field(path, entries, "condition")
    _, vnode, raw = entries["condition"]
    try:
        return parse_condition(text, series=params.index, known_series=series_keys)
    except ConditionError as exc:
        # the text was stripped: a leading blank line or indentation moves the position
        lead = str(raw)[: len(str(raw)) - len(str(raw).lstrip())]
        line = exc.line + lead.count("\n")
        column = exc.column + (len(lead) - lead.rfind("\n") - 1 if exc.line == 1 else 0)
        fline, fcol = _condition_position(vnode, line, column)
        raise SpecError(
            str(path),
            fline,
            fcol,
            "condition",
            getattr(exc, "bare_problem", exc.problem),
            exc.fix,
            name=exc.name,
            suggestions=exc.suggestions,
        ) from None


def with_overrides(data: bytes, overrides: Mapping[str, Any]) -> bytes:
    """A spec's YAML with some keys set (the launchpad's fields): the same document, re-dumped."""
    try:
        doc = yaml.safe_load(data.decode("utf-8"))
    except yaml.YAMLError:
        return data  # the loader reports the file's own syntax error
    if not isinstance(doc, dict):
        return data
    doc.update(overrides)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True).encode("utf-8")


def load_spec(
    path: Path, series_keys: tuple[str, ...], overrides: Mapping[str, Any] | None = None
) -> StudySpec:
    """One spec file, validated (SpecError names the file, line, column and the fix). With
    `overrides` (the launchpad's fields), the file with those keys set, validated the same way
    (positions then refer to the merged document, named `<file>+launchpad`)."""
    path = Path(path)
    data = path.read_bytes()
    where = path
    if overrides:
        data, where = with_overrides(data, overrides), Path(f"{path}+launchpad")
    if len(data) > MAX_SPEC_BYTES:
        raise SpecError(
            str(where),
            1,
            1,
            "(file)",
            f"is {len(data)} bytes",
            f"keep a spec under {MAX_SPEC_BYTES}",
        )
    text = data.decode("utf-8")
    entries = _entries(where, _document(where, text))
    name = _text_field(where, entries, "name")
    if not NAME_PATTERN.match(name) or name != path.stem:
        line, col = _mark(entries["name"][1])
        raise SpecError(
            str(where),
            line,
            col,
            "name",
            f"{name!r} must be the file's name ({path.stem!r}) in lower case, digits and _",
            f"name the file {name}.yaml or set `name: {path.stem}`",
            name=name,
        )
    question = _text_field(where, entries, "question")
    params = _params(where, entries, series_keys)
    condition = _condition(where, entries, params, series_keys)
    if "open_policy" not in entries and not condition.uses_open:
        # a condition that never reads an open needs no genuine open: every session counts
        params = params.with_(open_policy="all")
    return StudySpec(
        name=name,
        question=question,
        condition=condition,
        params=params,
        rule=rule_for(condition, params),
        path=str(path),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def spec_files(folder: Path) -> list[Path]:
    """The spec files of a library folder, by name."""
    return sorted(Path(folder).glob("*.yaml"))


def load_library(folder: Path, series_keys: tuple[str, ...]) -> list[StudySpec]:
    """Every spec of a folder, validated; the first bad file stops the load with its SpecError."""
    return [load_spec(p, series_keys) for p in spec_files(folder)]
