"""The report's glossary: a one-line explanation of each method the report names, and the filter
that links a term's first mention in a piece of prose to it (HTML only; text is escaped first)."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

# (anchor, term as shown, pattern of its mentions, one-line explanation)
TERMS: tuple[tuple[str, str, str, str], ...] = (
    (
        "hac",
        "HAC",
        r"\bHAC\b",
        "Heteroskedasticity- and autocorrelation-consistent (Newey-West) standard errors: they "
        "allow for overlapping forward windows and changing volatility, so p-values are not "
        "overstated.",
    ),
    (
        "holm",
        "Holm",
        r"\bHolm\b",
        "Holm's step-down adjustment: p-values raised so that the chance of any false positive "
        "across the horizons (and series) tested together stays at the bar.",
    ),
    (
        "circular-shift",
        "Circular-shift (randomization) p",
        r"\bcircular[- ]shift(?:ed)?\b|\brandomization p\b|\bplacebo\b",
        "The event dates are shifted together around the sample thousands of times (keeping "
        "their count and clustering); p is the share of shifted sets that do at least as well.",
    ),
    (
        "declustered",
        "Declustered",
        r"\bdeclustered\b|\bdeclustering\b",
        "Events within a few sessions of each other merged into one episode, so a single "
        "volatile spell is not counted as several independent events.",
    ),
    (
        "bh-by",
        "BH / BY q-values",
        r"\bBenjamini-Hochberg\b|\bBenjamini-Yekutieli\b|\bBH\b|\bBY\b|\bq-values?\b",
        "False-discovery-rate adjusted p-values over every hypothesis in the ledger: "
        "Benjamini-Hochberg (BH) assumes independent or positively related tests, "
        "Benjamini-Yekutieli (BY) holds under any dependence and is stricter.",
    ),
    (
        "deflated-sharpe",
        "Deflated Sharpe ratio",
        r"\b[Dd]eflated Sharpe\b",
        "The probability that a backtest's Sharpe ratio beats zero after allowing for how many "
        "configurations were tried and for non-normal returns.",
    ),
    (
        "spa-stepm",
        "SPA / StepM",
        r"\bSPA\b|\bStepM\b",
        "Hansen's Superior Predictive Ability test and Romano-Wolf's StepM: whether the best of "
        "many strategies beats a benchmark once the search over all of them is accounted for.",
    ),
    (
        "pbo",
        "PBO",
        r"\bPBO\b|\bprobability of backtest overfitting\b",
        "Probability of backtest overfitting (combinatorially symmetric cross-validation): how "
        "often the configuration that was best in-sample ranks below the median out of sample.",
    ),
)

_PATTERNS = [(anchor, re.compile(pattern)) for anchor, _, pattern, _ in TERMS]
_EXPLAIN = {anchor: text for anchor, _, _, text in TERMS}


def glossary() -> list[dict[str, str]]:
    """The glossary entries in the order the report lists them: id, term, explanation."""
    return [{"id": f"g-{a}", "term": term, "text": text} for a, term, _, text in TERMS]


def link_terms(text: object) -> Markup:
    """`text` escaped, with the first mention of each glossary term linked to its entry (the
    one-line explanation as the link's tooltip)."""
    s = str(escape(text))
    for anchor, pattern in _PATTERNS:
        m = pattern.search(s)
        # skip a mention inside a link inserted for an earlier term
        if m is None or s.rfind("<a ", 0, m.start()) > s.rfind("</a>", 0, m.start()):
            continue
        title = escape(_EXPLAIN[anchor])
        link = f'<a class="term" href="#g-{anchor}" title="{title}">{m.group(0)}</a>'
        s = s[: m.start()] + link + s[m.end() :]
    return Markup(s)
