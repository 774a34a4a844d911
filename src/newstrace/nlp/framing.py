"""Framing: the labels a text gives an actor ("terrorists", "Takfiri terrorist group", "rebels", "militant
opposition fighters", "so-called civil defence group"), with the actor each one refers to.

The pipeline runs without tagger and parser, so labels are found with token patterns over a lexicon
(``newstrace/data/labels.yml``, see its header): a *label phrase* is [determiner] [modifiers] HEAD, or
modifiers alone before a name. Patterns, in the order they are tried (``Label.rule``):

``actor-label``      [the] [modifiers] ACTOR [(ABBR)] [modifiers] HEAD: "the Takfiri Hayat Tahrir al-Sham
                     (HTS) terrorist outfit", "HTS terrorists", "Front terrorists".
``label-actor``      [the] [modifiers] HEAD ACTOR: "the so-called civil defense group White Helmets",
                     "terrorist group HTS".
``modifier-actor``   [the] MODIFIERS ACTOR, no head: "the so-called Amber Helmets" (label "so-called").
``label-of-actor``   [modifiers] HEAD of|from [the] ACTOR: "terrorists of the Free Highlands Front",
                     "volunteer rescuers from Highland Civil Rescue".
``apposition``       ACTOR [(ABBR)], [a|an|the] [modifiers] HEAD: "the White Helmets, a pseudo-humanitarian
                     organization".
``copula``           ACTOR [, which|who] is|are|was|were [a|an|the] [modifiers] HEAD: "HTS is a terrorist
                     organisation" ("is not a ..." is no label).
``name``             an actor's own alias that ends in a head: "the Passite militants" (an alias of the Free
                     Highlands Front); "White Helmets group" is no label ("group" needs a modifier).
``anaphora``         a label phrase with no actor next to it, definite ("The terrorist outfit said ...",
                     "their pseudo-humanitarian accomplices") or a bare plural ("Militants are preparing
                     ..."): the most recent actor of a compatible kind in its sentence or the two before it,
                     preferring one the text gave the same head noun (so "60 terrorists" after "ISIS
                     terrorists" stays with ISIS). Labels found earlier count as mentions of their actor.
``document``         the same phrase with no such actor nearby: the one actor of a compatible kind that the
                     text names anywhere, when it names exactly one ("the rebels took the town" in a story
                     whose only armed group is the Front). No label when it names none or several.
``held-anaphora``,   "rebel-held", "opposition-held", "militant-controlled" (a space for the hyphen only after
``held-document``    a count noun: "rebel held provinces", never "the opposition held talks"): a label use of
                     "rebel" for the armed group that holds the place, resolved like ``anaphora``/``document``.

Precision rules. A phrase must refer to an actor: indefinite phrases ("a terrorist group", "other terrorist
factions") introduce someone new and are labels only in an apposition or copula; plural group nouns with no
actor ("terrorist groups in Iraq") are generic. Weak heads ("fighters", "volunteers") need a modifier or a
name beside them, generic heads ("group", "organisation", "opposition") always need a modifier. Words joined
by a hyphen to a word outside the lexicon ("anti-terrorist") and words inside a proper name ("Shanghai
Cooperation Organization", "Varnian Armed Forces") are not label words. Participles are not modifiers:
"accused rebels" is the verb "accused" and the label "rebels". Kinds: armed_group words resolve to
armed_group actors, ngo words to ngo actors, generic heads without a kind to either; a modifier's kind wins
over its head's. In the name patterns any actor but a person may be labelled ("the White Helmets terrorists"
is framing too).

Short names. An unlinked ORG mention that is the first or last words of an armed group's or NGO's name counts
as that actor: one the text names in full ("the Front" after "Free Highlands Front"), else the only one in the
alias table it fits ("Passite" for the alias "Passite militants"; "Front" alone also fits "Nusra Front" and
stays unlinked). A capitalised word the recogniser left out counts only as the last word of a name the text
gives ("Front terrorists"), never as a first word ("Syrian" of "Syrian Democratic Forces").

Labels leave out the actor's own name ("HTS terrorists" is "terrorists") and write lexicon words as the lexicon
does ("so called" is "so-called", "outfits" is "outfit", "takfiri" is "Takfiri"). Labels in quotation marks
of their own ("that ‘militants’ were ...") cite another's word and are left out of anaphora.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from newstrace.model import Label, Mention, Sentence
from newstrace.nlp.aliases import AliasTable, load_aliases
from newstrace.nlp.translit import name_key

# Head roles: strong member nouns, weak member nouns, group nouns, generic group nouns.
MEMBER, WEAK, GROUP, GENERIC = "members", "weak_members", "groups", "generic_groups"
MODIFIER = "modifiers"
HEAD_ROLES = (MEMBER, WEAK, GROUP, GENERIC)
ROLES = (*HEAD_ROLES, MODIFIER)
# Actor kinds a kindless label word may refer to.
LABELLED_KINDS = frozenset({"armed_group", "ngo"})
# Sentences before the label's own in which an anaphoric label looks for its actor.
WINDOW = 2

DEFINITE = frozenset({"the", "these", "those", "this", "that"})
# "this"/"that" before a plural are no determiners: "reports that militants ...".
SINGULAR_ONLY = frozenset({"this", "that"})
POSSESSIVE = frozenset({"their", "its", "his", "her", "our", "your", "my"})
# Words before a phrase that make it indefinite, quantified or about someone else: no anaphora.
NOT_ANAPHORIC = frozenset(
    re.findall(
        r"\w+",
        "a an another other some any no one every each such many several few most both more fewer certain "
        "various numerous different which what whose former ex anti pro non counter like",
    )
)

_WORD = re.compile(r"[^\W_]+(?:['’](?![sS]\b)[^\W_]+)*")
# Between the words of one unit or one phrase: a space or a hyphen (no punctuation, no blank line).
_JOIN = re.compile(r"[ \t\u00a0]*\n?[ \t\u00a0]*|[ \t\u00a0]*[-‐‑][ \t\u00a0]*")
_HYPHEN = re.compile(r"[-‐‑]")
_OPEN = re.compile(r"[\s“\"‘'«]*")
_CLOSE = re.compile(r"[\s”\"’'»]*")
_ABBR_OPEN = re.compile(r"\s*\(\s*")
_ABBR_CLOSE = re.compile(r"\s*\)")
_OF = re.compile(r"(?:of|from)\s+(?:the\s+)?$", re.IGNORECASE)
_SPACE = re.compile(r"\s+")
_NOTHING = re.compile("")
_SENTENCE_BREAK = re.compile(r"[.!?:;\n]")
_COMMA = re.compile(r"\s*,\s*")
_COPULA = re.compile(
    r"\s*(?:,\s*(?:which|who)\s+)?(?:is|are|was|were|remains|remain|has\s+been|have\s+been|had\s+been)\s+"
    r"(?:(?:still|now|also|actually|really|in\s+fact)\s+)*",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"(?:a|an|the)\s+", re.IGNORECASE)
_LEADING = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_POSSESSIVE_END = re.compile(r"['’]s?$")


class LabelError(ValueError):
    """A label lexicon file that cannot be used."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon word or phrase: how labels write it (``form``: the lexicon's spelling, a group noun in the
    singular), its case-folded words, the kinds of actor it points to per role, and whether it is the plural
    of a group noun."""

    form: str
    words: tuple[str, ...]
    roles: Mapping[str, frozenset[str]]
    plural: bool = False


@dataclass
class LabelLexicon:
    """The label lexicon: entries by their first word (lower-case), longest first, and the held participles."""

    entries: dict[str, list[Entry]] = field(default_factory=dict)
    held: frozenset[str] = frozenset()

    def add(self, role: str, kind: str, form: str) -> None:
        for variant, plural in _variants(role, form):
            words = tuple(w for w in re.split(r"[\s\-‐‑]+", variant.casefold()) if w)
            if not words:
                continue
            bucket = self.entries.setdefault(words[0], [])
            for index, entry in enumerate(bucket):
                if entry.words == words:
                    roles = dict(entry.roles)
                    roles[role] = roles.get(role, frozenset()) | {kind}
                    bucket[index] = Entry(entry.form, words, roles, entry.plural or plural)
                    break
            else:
                bucket.append(Entry(form, words, {role: frozenset({kind})}, plural))
                bucket.sort(key=lambda e: -len(e.words))

    def lookup(self, words: Sequence[str], start: int) -> Entry | None:
        """The longest entry that starts at ``words[start]``."""
        for entry in self.entries.get(words[start], ()):
            n = len(entry.words)
            if tuple(words[start : start + n]) == entry.words:
                return entry
        return None


def _variants(role: str, form: str) -> list[tuple[str, bool]]:
    """A group noun also in the plural: outfit/outfits, militia/militias, charity/charities, NGO/NGOs."""
    if role not in (GROUP, GENERIC):
        return [(form, False)]
    if re.search(r"[^aeiou]y$", form):
        plural = form[:-1] + "ies"
    elif re.search(r"(?:s|sh|ch|x)$", form):
        plural = form + "es"
    else:
        plural = form + "s"
    return [(form, False), (plural, True)]


def _parse(data: Any, origin: str, lexicon: LabelLexicon) -> None:
    if not isinstance(data, dict):
        raise LabelError(f"{origin}: expected a mapping of lists ({', '.join((*ROLES, 'held'))})")
    for key, value in data.items():
        if key == "held":
            if not isinstance(value, list):
                raise LabelError(f"{origin}: 'held' must be a list of participles")
            lexicon.held = lexicon.held | {str(v).casefold() for v in value}
            continue
        if key not in ROLES:
            raise LabelError(f"{origin}: unknown list '{key}' (expected {', '.join((*ROLES, 'held'))})")
        if not isinstance(value, dict):
            raise LabelError(f"{origin}: '{key}' must map kinds (armed_group, ngo, any, ...) to lists")
        for kind, forms in value.items():
            if not isinstance(forms, list):
                raise LabelError(f"{origin}: '{key}.{kind}' must be a list")
            for form in forms:
                lexicon.add(key, str(kind), str(form))


@lru_cache(maxsize=8)
def _load(files: tuple[str, ...]) -> LabelLexicon:
    lexicon = LabelLexicon()
    shipped = resources.files("newstrace.data").joinpath("labels.yml").read_text(encoding="utf-8")
    _parse(yaml.safe_load(shipped), "newstrace/data/labels.yml", lexicon)
    for file in files:
        try:
            data = yaml.safe_load(Path(file).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise LabelError(f"{file}: cannot read labels: {exc}") from exc
        _parse(data, file, lexicon)
    return lexicon


def load_lexicon(files: Iterable[str | Path] = ()) -> LabelLexicon:
    """The shipped lexicon, extended by user files (``--labels FILE``, same format)."""
    return _load(tuple(str(f) for f in files))


@lru_cache(maxsize=8)
def _aliases(files: tuple[str, ...]) -> AliasTable:
    return load_aliases(list(files))


def alias_table(files: Iterable[str | Path] = ()) -> AliasTable:
    """The alias table (shipped, plus user alias files) that gives actors their kinds: read once per process."""
    return _aliases(tuple(str(f) for f in files))


# -- tokens, units and phrases -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    word: str  # case-folded


@dataclass(frozen=True, slots=True)
class _Unit:
    """A lexicon entry matched in the text: tokens ``[first, last]``."""

    first: int
    last: int
    start: int
    end: int
    entry: Entry

    def has(self, role: str) -> bool:
        return role in self.entry.roles

    @property
    def is_head(self) -> bool:
        return any(role in self.entry.roles for role in HEAD_ROLES)


@dataclass(frozen=True, slots=True)
class _Phrase:
    """[modifiers] head, both lexicon units; ``head`` is None for a run of modifiers only."""

    modifiers: tuple[_Unit, ...]
    head: _Unit | None

    @property
    def start(self) -> int:
        return (self.modifiers[0] if self.modifiers else self.head).start  # type: ignore[union-attr]

    @property
    def end(self) -> int:
        return (self.head or self.modifiers[-1]).end

    @property
    def first(self) -> int:
        return (self.modifiers[0] if self.modifiers else self.head).first  # type: ignore[union-attr]

    def head_role(self) -> str | None:
        if self.head is None:
            return None
        for role in HEAD_ROLES:  # strongest first
            if self.head.has(role):
                return role
        return None

    def kinds(self) -> frozenset[str]:
        """Actor kinds the phrase can refer to: its modifiers' kinds, else its head's, else any labelled kind."""
        for units in (self.modifiers, (self.head,) if self.head else ()):
            kinds = frozenset(
                k for unit in units for ks in unit.entry.roles.values() for k in ks if k != "any"
            )
            if kinds:
                return kinds
        return LABELLED_KINDS

    def valid(self, beside_actor: bool, extra_modifiers: int = 0) -> bool:
        """Whether the phrase is a label: weak heads need a modifier or an actor beside them, generic heads a
        modifier."""
        role = self.head_role()
        modified = bool(self.modifiers) or extra_modifiers > 0
        if role in (MEMBER, GROUP):
            return True
        if role == WEAK:
            return modified or beside_actor
        if role == GENERIC:
            return modified
        return False


def _tokens(text: str) -> list[_Token]:
    return [_Token(m.start(), m.end(), m.group().casefold()) for m in _WORD.finditer(text)]


def _joined(text: str, a: _Token, b: _Token) -> bool:
    """Whether two tokens are next to each other with only a space or a hyphen between them."""
    return bool(_JOIN.fullmatch(text, a.end, b.start))


def _hyphened(text: str, a: _Token, b: _Token) -> bool:
    gap = text[a.end : b.start]
    return bool(gap) and bool(_HYPHEN.fullmatch(gap))


def _match_units(text: str, tokens: Sequence[_Token], lexicon: LabelLexicon) -> list[_Unit]:
    words = [t.word for t in tokens]
    units: list[_Unit] = []
    i = 0
    while i < len(tokens):
        entry = lexicon.lookup(words, i)
        if entry is not None:
            n = len(entry.words)
            if all(_joined(text, tokens[k], tokens[k + 1]) for k in range(i, i + n - 1)):
                units.append(_Unit(i, i + n - 1, tokens[i].start, tokens[i + n - 1].end, entry))
                i += n
                continue
        i += 1
    # A label word hyphened to a word outside the lexicon is part of another word: "anti-terrorist".
    in_unit = {k for u in units for k in range(u.first, u.last + 1)}
    kept = []
    for unit in units:
        before = unit.first - 1
        after = unit.last + 1
        if before >= 0 and before not in in_unit and _hyphened(text, tokens[before], tokens[unit.first]):
            continue
        if (
            after < len(tokens)
            and after not in in_unit
            and _hyphened(text, tokens[unit.last], tokens[after])
            and tokens[after].word not in lexicon.held
        ):
            continue
        kept.append(unit)
    return kept


def _runs(text: str, units: Sequence[_Unit], tokens: Sequence[_Token]) -> list[list[_Unit]]:
    runs: list[list[_Unit]] = []
    for unit in units:
        if (
            runs
            and runs[-1][-1].last + 1 == unit.first
            and _joined(text, tokens[unit.first - 1], tokens[unit.first])
        ):
            runs[-1].append(unit)
        else:
            runs.append([unit])
    return runs


def _phrase_ending(run: Sequence[_Unit], end: int) -> _Phrase | None:
    """The phrase whose head is ``run[end]``, with the modifiers right before it."""
    if not run[end].is_head:
        return None
    start = end
    while start > 0 and run[start - 1].has(MODIFIER):
        start -= 1
    return _Phrase(tuple(run[start:end]), run[end])


def _leading_phrase(run: Sequence[_Unit]) -> _Phrase | None:
    """The phrase at the start of a run: modifiers, then the last head reached through modifiers only."""
    head = None
    for index, unit in enumerate(run):
        if unit.is_head:
            head = index
            # "opposition fighters": a head that is also a modifier may go on to a later head.
            if not unit.has(MODIFIER):
                break
        elif not unit.has(MODIFIER):
            break
    if head is None:
        return None
    return _Phrase(tuple(run[:head]), run[head])


def _main_phrase(run: Sequence[_Unit]) -> _Phrase | None:
    """The phrase a run stands for on its own: its last head with the modifiers before it."""
    for end in range(len(run) - 1, -1, -1):
        if run[end].is_head:
            return _phrase_ending(run, end)
    return None


# -- actors ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Block:
    """An actor's name as written, with an abbreviation in brackets after it: "Hayat Tahrir al-Sham (HTS)"."""

    start: int
    end: int
    mention: Mention
    actor_id: str


def _name(text: str) -> str:
    return name_key(_POSSESSIVE_END.sub("", _LEADING.sub("", text.strip())))


def _part_of(key: str, full: str, first_words: bool = True) -> bool:
    """Whether ``key`` is the last (or first) words of ``full``: "front" of "free highlands front"."""
    if len(key) < 3 or key == full:
        return False
    return full.endswith(" " + key) or (first_words and full.startswith(key + " "))


def _short_names(mentions: Sequence[Mention], table: AliasTable) -> tuple[list[Mention], dict[str, set[str]]]:
    """Unlinked ORG mentions that are the first or last words of the name of an armed group or NGO become
    mentions of it: of one the text names in full ("the Front" after "Free Highlands Front"), else of the one
    in the alias table they fit ("Passite" for "Passite militants"). "Front" alone also fits "Nusra Front",
    so it stays unlinked in a text that names neither. Also returns the name keys of the armed groups and
    NGOs the text names."""
    known: dict[str, set[str]] = {}
    for key, actor_id in table.by_key.items():
        actor = table.actors.get(actor_id)
        if actor is not None and actor.kind in LABELLED_KINDS:
            known.setdefault(actor_id, set()).add(key)
    named: dict[str, set[str]] = {}
    for m in mentions:
        if m.actor_id in known:
            keys = named.setdefault(m.actor_id, set())
            keys.update(k for k in (_name(m.text), _name(m.canonical or "")) if k)
            keys.update(known.get(m.actor_id, ()))
    resolved = list(mentions)
    for _ in range(2):  # a second pass lets "Front" follow a "Passite" linked later in the text
        for index, m in enumerate(resolved):
            if m.actor_id or m.label != "ORG":
                continue
            key = _name(m.text)
            in_text = {a for a, keys in named.items() if any(_part_of(key, full) for full in keys)}
            fits = in_text or {a for a, keys in known.items() if any(_part_of(key, full) for full in keys)}
            if len(fits) == 1:
                actor_id = next(iter(fits))
                resolved[index] = replace(m, actor_id=actor_id)
                named.setdefault(actor_id, set()).update(known.get(actor_id, ()))
    return resolved, named


def _names_before_labels(
    text: str,
    tokens: Sequence[_Token],
    runs: Sequence[Sequence[_Unit]],
    mentions: Sequence[Mention],
    named: Mapping[str, set[str]],
) -> list[Mention]:
    """A capitalised word right before a label phrase that is the last word of a name the text gives in full
    ("Front terrorists" after "Free Highlands Front"), when the entity recogniser did not mark it. Not a
    first word ("Syrian" of "Syrian Democratic Forces" in "Syrian rebels"), and not at the start of a
    sentence, where any word has a capital."""
    found = []
    spans = [(m.start, m.end) for m in mentions]
    for run in runs:
        before = run[0].first - 1
        if before < 1 or not _JOIN.fullmatch(text, tokens[before].end, run[0].start):
            continue
        if _SENTENCE_BREAK.search(text, tokens[before - 1].end, tokens[before].start):
            continue
        token = tokens[before]
        word = text[token.start : token.end]
        if not word[:1].isupper() or any(s < token.end and token.start < e for s, e in spans):
            continue
        key = _name(word)
        fits = {a for a, keys in named.items() if any(_part_of(key, full, False) for full in keys)}
        if len(fits) == 1:
            found.append(Mention(token.start, token.end, word, "ORG", next(iter(fits))))
    return found


def _blocks(text: str, mentions: Sequence[Mention]) -> list[_Block]:
    linked = sorted((m for m in mentions if m.actor_id), key=lambda m: (m.start, -m.end))
    blocks: list[_Block] = []
    for m in linked:
        if blocks and m.start < blocks[-1].end:
            continue  # nested or overlapping mention
        if (
            blocks
            and blocks[-1].actor_id == m.actor_id
            and _ABBR_OPEN.fullmatch(text, blocks[-1].end, m.start)
        ):
            close = _ABBR_CLOSE.match(text, m.end)
            if close:
                last = blocks.pop()
                blocks.append(_Block(last.start, close.end(), last.mention, last.actor_id))
                continue
        blocks.append(_Block(m.start, m.end, m, m.actor_id))  # type: ignore[arg-type]
    return blocks


# -- finding labels -----------------------------------------------------------------------------------------


@dataclass
class _Finder:
    text: str
    sentence_starts: list[int]
    lexicon: LabelLexicon
    kinds: Mapping[str, str]
    tokens: list[_Token] = field(default_factory=list)
    token_starts: list[int] = field(default_factory=list)
    runs: list[list[_Unit]] = field(default_factory=list)
    used: set[int] = field(default_factory=set)  # token index of each run's first unit, once taken
    labels: list[Label] = field(default_factory=list)

    # -- building blocks -------------------------------------------------------------------------------

    def sentence(self, offset: int) -> int:
        return bisect.bisect_right(self.sentence_starts, offset) - 1

    def kind(self, mention: Mention) -> str:
        return self.kinds.get(mention.actor_id or "", "person" if mention.label == "PERSON" else "")

    def determiner(self, start: int) -> tuple[str, int]:
        """The word right before ``start`` (lower-case) and its start, or ("", start)."""
        index = bisect.bisect_left(self.token_starts, start) - 1
        if index < 0:
            return "", start
        token = self.tokens[index]
        if not _OPEN.fullmatch(self.text, token.end, start):
            return "", start
        return token.word, token.start

    def with_article(self, start: int) -> int:
        word, where = self.determiner(start)
        if word in SINGULAR_ONLY:
            return start
        return where if word in DEFINITE or word in POSSESSIVE or word in ("a", "an") else start

    @staticmethod
    def form(unit: _Unit) -> str:
        """How labels write a unit: as the lexicon does ("so-called" for "so called", "Takfiri" for
        "takfiri", "outfit" for "outfits")."""
        return unit.entry.form

    def emit(
        self,
        block_or_mention: _Block | Mention,
        start: int,
        end: int,
        modifiers: Sequence[_Unit],
        head: _Unit | None,
        rule: str,
    ) -> None:
        if isinstance(block_or_mention, _Block):
            mention, actor_id = block_or_mention.mention, block_or_mention.actor_id
        else:
            mention, actor_id = block_or_mention, block_or_mention.actor_id or ""
        mods = tuple(self.form(u) for u in modifiers)
        head_form = self.form(head) if head else ""
        self.labels.append(
            Label(
                actor_id=actor_id,
                start=start,
                end=end,
                text=self.text[start:end],
                label=" ".join((*mods, head_form)).strip(),
                head=head_form,
                modifiers=mods,
                mention_start=mention.start,
                mention_end=mention.end,
                rule=rule,
            )
        )

    # -- the name patterns ------------------------------------------------------------------------------

    def run_ending_at(self, end: int, gap: re.Pattern[str]) -> list[_Unit] | None:
        """The unused run that ends right before ``end`` with only ``gap`` characters between."""
        for run in reversed(self.runs):
            if run[-1].end <= end:
                return run if gap.fullmatch(self.text, run[-1].end, end) else None
        return None

    def run_starting_at(self, start: int, gap: re.Pattern[str]) -> list[_Unit] | None:
        for run in self.runs:
            if run[0].start >= start:
                return run if gap.fullmatch(self.text, start, run[0].start) else None
        return None

    def explicit(self, blocks: Sequence[_Block]) -> None:
        for block in blocks:
            if self.kind(block.mention) == "person":
                continue
            left = self.run_ending_at(block.start, _OPEN)
            right = self.run_starting_at(block.end, _CLOSE)
            left_mods: tuple[_Unit, ...] = ()
            if left is not None and all(u.has(MODIFIER) for u in left) and left[0].first not in self.used:
                left_mods = tuple(left)
            # [the] [modifiers] ACTOR [(ABBR)] [modifiers] HEAD
            after = _leading_phrase(right) if right is not None and right[0].first not in self.used else None
            if after is not None and after.valid(True, len(left_mods)):
                begin = self.with_article(left_mods[0].start if left_mods else block.start)
                self.emit(block, begin, after.end, (*left_mods, *after.modifiers), after.head, "actor-label")
                self.used.add(right[0].first)  # type: ignore[index]
                if left_mods:
                    self.used.add(left_mods[0].first)
                left_mods = ()
            elif left is not None and left[0].first not in self.used:
                before = _phrase_ending(left, len(left) - 1)
                # [the] [modifiers] HEAD ACTOR
                if before is not None and before.valid(True):
                    self.emit(
                        block,
                        self.with_article(before.start),
                        block.end,
                        before.modifiers,
                        before.head,
                        "label-actor",
                    )
                    self.used.add(left[0].first)
                    left_mods = ()
            # [the] MODIFIERS ACTOR
            if left_mods and left_mods[0].first not in self.used:
                self.emit(
                    block, self.with_article(left_mods[0].start), block.end, left_mods, None, "modifier-actor"
                )
                self.used.add(left_mods[0].first)
            self.label_of(block, left_mods[0].start if left_mods else block.start)
            self.apposition(block)

    def label_of(self, block: _Block, left_edge: int) -> None:
        """[modifiers] HEAD of|from [the] ACTOR."""
        window_start = max(0, left_edge - 16)
        of = _OF.search(self.text, window_start, left_edge)
        if of is None or (of.start() > 0 and self.text[of.start() - 1].isalnum()):
            return
        run = self.run_ending_at(of.start(), _SPACE)
        if run is None or run[0].first in self.used:
            return
        phrase = _phrase_ending(run, len(run) - 1)
        if phrase is None or not phrase.valid(True):
            return
        self.emit(
            block, self.with_article(phrase.start), block.end, phrase.modifiers, phrase.head, "label-of-actor"
        )
        self.used.add(run[0].first)

    def apposition(self, block: _Block) -> None:
        """ACTOR, [a|an|the] [modifiers] HEAD   and   ACTOR [, which] is [a|an|the] [modifiers] HEAD."""
        for pattern, rule in ((_COMMA, "apposition"), (_COPULA, "copula")):
            lead = pattern.match(self.text, block.end)
            if lead is None:
                continue
            at = lead.end()
            article = _ARTICLE.match(self.text, at)
            if article:
                at = article.end()
            run = self.run_starting_at(at, _NOTHING)
            if run is None or run[0].first in self.used:
                continue
            phrase = _leading_phrase(run)
            if phrase is None or not phrase.valid(True):
                continue
            strong = phrase.head_role() in (MEMBER, GROUP)
            if not (phrase.modifiers or article or strong) or (
                rule == "copula" and not (phrase.modifiers or strong)
            ):
                continue
            start = article.start() if article else phrase.start
            self.emit(block, start, phrase.end, phrase.modifiers, phrase.head, rule)
            self.used.add(run[0].first)
            return

    def names(self, mentions: Sequence[Mention]) -> None:
        """An actor's own alias that ends in a label head: "the Passite militants"."""
        for mention in mentions:
            if not mention.actor_id or self.kind(mention) == "person":
                continue
            inside = _tokens(mention.text)
            if len(inside) < 2:
                continue
            shifted = [_Token(t.start + mention.start, t.end + mention.start, t.word) for t in inside]
            units = _match_units(self.text[: mention.end], shifted, self.lexicon)
            if not units or units[-1].end != mention.end or units[-1].first == 0:
                continue
            run = _runs(self.text, units, shifted)[-1]
            phrase = _phrase_ending(run, len(run) - 1)
            if phrase is None or (phrase.first == 0 and not phrase.modifiers):
                continue
            if phrase.head_role() in (WEAK, GENERIC) and not phrase.modifiers:
                continue
            left = self.run_ending_at(mention.start, _OPEN)
            left_mods: tuple[_Unit, ...] = ()
            if left and left[0].first not in self.used and all(u.has(MODIFIER) for u in left):
                left_mods = tuple(left)
            if left_mods:
                self.used.add(left_mods[0].first)
            begin = self.with_article(left_mods[0].start if left_mods else mention.start)
            self.emit(mention, begin, mention.end, (*left_mods, *phrase.modifiers), phrase.head, "name")

    # -- anaphora ---------------------------------------------------------------------------------------

    def quoted(self, phrase: _Phrase) -> bool:
        """A phrase in quotation marks of its own ("stating that ‘militants’ were ...") cites someone else's
        label: the text mentions it rather than uses it."""
        before = self.text[max(0, phrase.start - 1) : phrase.start]
        after = self.text[phrase.end : phrase.end + 1]
        return bool(before) and before in "‘“\"'«" and bool(after) and after in "’”\"'»"

    def antecedent(
        self, start: int, kinds: frozenset[str], head: str, actors: Sequence[Mention]
    ) -> tuple[str, int, int, str] | None:
        """(actor id, mention start, mention end, rule) for a phrase at ``start`` with no actor beside it."""
        sentence = self.sentence(start)
        first = self.sentence_starts[max(0, sentence - WINDOW)] if sentence >= 0 else 0
        earlier = sorted((lb for lb in self.labels if first <= lb.start < start), key=lambda lb: lb.start)
        fits = [lb for lb in earlier if self.kinds.get(lb.actor_id, "") in kinds]
        same_head = [lb for lb in fits if head and lb.head == head]
        if same_head:
            last = same_head[-1]
            return last.actor_id, last.mention_start, last.mention_end, "anaphora"
        candidates: list[tuple[int, str, int, int]] = [
            (lb.start, lb.actor_id, lb.mention_start, lb.mention_end) for lb in fits
        ]
        candidates += [
            (m.start, m.actor_id or "", m.start, m.end)
            for m in actors
            if first <= m.start and m.end <= start and self.kind(m) in kinds
        ]
        if candidates:
            _, actor_id, m_start, m_end = max(candidates)
            return actor_id, m_start, m_end, "anaphora"
        named = {m.actor_id for m in actors if self.kind(m) in kinds}
        if len(named) == 1:
            actor_id = next(iter(named))
            nearest = min((m for m in actors if m.actor_id == actor_id), key=lambda m: abs(m.start - start))
            return actor_id, nearest.start, nearest.end, "document"
        return None

    def anaphora(self, actors: Sequence[Mention]) -> None:
        found = []
        for run in self.runs:
            if run[0].first in self.used:
                continue
            phrase = _main_phrase(run)
            if phrase is None or phrase.head is None:
                continue
            role = phrase.head_role()
            word, where = self.determiner(phrase.start)
            if word in SINGULAR_ONLY and (role in (MEMBER, WEAK) or phrase.head.entry.plural):
                word, where = "", phrase.start
            if word in NOT_ANAPHORIC or self.quoted(phrase):
                continue
            # A group noun needs "the"/"their", in the singular: "terrorist groups in Iraq" and "an armed group"
            # are no actor in particular.
            if role in (GROUP, GENERIC) and (
                (word not in DEFINITE and word not in POSSESSIVE) or phrase.head.entry.plural
            ):
                continue
            if not phrase.valid(False):
                continue
            if word in POSSESSIVE and not phrase.modifiers:
                continue  # "their fighters": fighters of whoever "their" is
            begin = where if word in DEFINITE or word in POSSESSIVE else phrase.start
            found.append((begin, phrase))
        for begin, phrase in sorted(found, key=lambda f: f[0]):
            head = self.form(phrase.head)  # type: ignore[arg-type]
            resolved = self.antecedent(begin, phrase.kinds(), head, actors)
            if resolved is None:
                continue
            actor_id, m_start, m_end, rule = resolved
            mods = tuple(self.form(u) for u in phrase.modifiers)
            self.labels.append(
                Label(
                    actor_id,
                    begin,
                    phrase.end,
                    self.text[begin : phrase.end],
                    " ".join((*mods, head)),
                    head,
                    mods,
                    m_start,
                    m_end,
                    rule,
                )
            )

    def held(self, units: Sequence[_Unit], actors: Sequence[Mention]) -> None:
        """ "rebel-held", "opposition-controlled", "rebel held provinces"."""
        members = {
            w
            for entries in self.lexicon.entries.values()
            for e in entries
            if MEMBER in e.roles
            for w in [" ".join(e.words)]
        }
        for unit in units:
            if unit.first != unit.last or "armed_group" not in unit.entry.roles.get(MODIFIER, ()):
                continue
            after = unit.last + 1
            if after >= len(self.tokens) or self.tokens[after].word not in self.lexicon.held:
                continue
            gap = self.text[unit.end : self.tokens[after].start]
            hyphen = bool(_HYPHEN.fullmatch(gap))
            # Spaced only after a count noun ("rebel held provinces"), never "the opposition held talks".
            spaced = gap == " " and unit.entry.words[0] + "s" in members
            if not (hyphen or spaced) or after + 1 >= len(self.tokens):
                continue
            if not re.fullmatch(r"\s+", self.text[self.tokens[after].end : self.tokens[after + 1].start]):
                continue
            resolved = self.antecedent(unit.start, frozenset({"armed_group"}), "", actors)
            if resolved is None:
                continue
            actor_id, m_start, m_end, rule = resolved
            word = self.form(unit)
            end = self.tokens[after].end
            label = f"{word}-{self.tokens[after].word}"
            self.labels.append(
                Label(
                    actor_id,
                    unit.start,
                    end,
                    self.text[unit.start : end],
                    label,
                    word,
                    (),
                    m_start,
                    m_end,
                    f"held-{rule}",
                )
            )


def find_labels(
    text: str,
    mentions: Sequence[Mention],
    sentences: Sequence[Sentence],
    lexicon: LabelLexicon | None = None,
    *,
    aliases: AliasTable | None = None,
) -> list[Label]:
    """Every label ``text`` gives an actor, in text order (see the module docstring for the patterns).

    ``mentions`` and ``sentences`` are the document's annotations (:class:`newstrace.model.Annotations`);
    only mentions with an ``actor_id`` can be labelled. ``aliases`` is the alias table the mentions were
    linked with (:func:`alias_table`, the shipped one by default): it gives each actor its kind.
    """
    lexicon = lexicon or load_lexicon()
    table = aliases if aliases is not None else alias_table()
    kinds = {actor_id: actor.kind for actor_id, actor in table.actors.items()}
    mentions, named = _short_names(sorted(mentions, key=lambda m: (m.start, -m.end)), table)
    tokens = _tokens(text)
    units = _match_units(text, tokens, lexicon)
    extra = _names_before_labels(text, tokens, _runs(text, units, tokens), mentions, named)
    if extra:
        mentions = sorted([*mentions, *extra], key=lambda m: (m.start, -m.end))
    actors = [m for m in mentions if m.actor_id]
    # Label words inside a name are part of the name: any actor's, or an unlinked one with other words in it.
    covered = {k for u in units for k in range(u.first, u.last + 1)}
    starts = [t.start for t in tokens]
    blocked: list[tuple[int, int]] = []
    for m in mentions:
        inside = range(bisect.bisect_left(starts, m.start), bisect.bisect_left(starts, m.end))
        if m.actor_id or (m.label != "NORP" and any(i not in covered for i in inside)):
            blocked.append((m.start, m.end))
    free = [u for u in units if not any(s < u.end and u.start < e for s, e in blocked)]
    finder = _Finder(text, sorted({s.start for s in sentences} | {0}), lexicon, kinds, tokens, starts)
    finder.runs = _runs(text, free, tokens)
    finder.names(actors)
    finder.explicit(_blocks(text, mentions))
    finder.anaphora(actors)
    finder.held(free, actors)
    unique = {(label.start, label.end, label.actor_id): label for label in finder.labels}
    return sorted(unique.values(), key=lambda label: (label.start, label.end))
