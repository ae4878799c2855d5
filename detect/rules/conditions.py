"""The boolean condition of a rule over its selections: and, or, not, parentheses, and
near(a, b, N) (some term of a within N words of some term of b)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"\s*(?:(\()|(\))|(,)|(\d+)|([A-Za-z_][A-Za-z0-9_]*))")
_KEYWORDS = frozenset({"and", "or", "not", "near"})


class ConditionSyntaxError(ValueError):
    """The condition text does not parse; the message says where."""


@dataclass(frozen=True, slots=True)
class Name:
    """A selection: true when it matched."""

    name: str


@dataclass(frozen=True, slots=True)
class Not:
    """Negation."""

    operand: Node


@dataclass(frozen=True, slots=True)
class And:
    """Conjunction."""

    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Disjunction."""

    operands: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Near:
    """Some term of `left` within `words` words of some term of `right`."""

    left: str
    right: str
    words: int


Node = Name | Not | And | Or | Near


def _tokenize(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if not match:
            raise ConditionSyntaxError(f"unexpected {text[position:].strip()[:12]!r}")
        tokens.append(match.group().strip())
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = list(tokens)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, wanted: str = "more") -> str:
        token = self.peek()
        if token is None:
            raise ConditionSyntaxError(f"unexpected end, expected {wanted}")
        self.pos += 1
        return token

    def expect(self, literal: str) -> None:
        token = self.take(repr(literal))
        if token != literal:
            raise ConditionSyntaxError(f"expected {literal!r}, found {token!r}")

    def parse(self) -> Node:
        node = self.or_expr()
        if self.peek() is not None:
            raise ConditionSyntaxError(f"unexpected {self.peek()!r}")
        return node

    def or_expr(self) -> Node:
        return self.joined("or", self.and_expr, Or)

    def and_expr(self) -> Node:
        return self.joined("and", self.not_expr, And)

    def joined(
        self, word: str, operand: Callable[[], Node], node: Callable[[tuple[Node, ...]], Node]
    ) -> Node:
        """Operands separated by `word`, as one `node` of them all (a lone operand stays bare)."""
        operands = [operand()]
        while self.peek() == word:
            self.take()
            operands.append(operand())
        return operands[0] if len(operands) == 1 else node(tuple(operands))

    def not_expr(self) -> Node:
        if self.peek() == "not":
            self.take()
            return Not(self.not_expr())
        return self.atom()

    def atom(self) -> Node:
        token = self.take("a selection name")
        if token == "(":
            node = self.or_expr()
            self.expect(")")
            return node
        if token == "near":
            return self.near()
        self.pos -= 1
        return Name(self.name())

    def near(self) -> Near:
        self.expect("(")
        left = self.name()
        self.expect(",")
        right = self.name()
        self.expect(",")
        words = self.take("a number of words")
        if not words.isdigit():
            raise ConditionSyntaxError(f"near() needs a number of words, found {words!r}")
        self.expect(")")
        return Near(left, right, int(words))

    def name(self) -> str:
        token = self.take("a selection name")
        if token in _KEYWORDS or not (token[0].isalpha() or token[0] == "_"):
            raise ConditionSyntaxError(f"expected a selection name, found {token!r}")
        return token


def parse_condition(text: str) -> Node:
    """The condition tree of `text`; raises ConditionSyntaxError."""
    tokens = _tokenize(text)
    if not tokens:
        raise ConditionSyntaxError("empty condition")
    return _Parser(tokens).parse()


def names_in(node: Node) -> list[str]:
    """Every selection name the condition uses, in order of first use."""
    found: list[str] = []
    _collect(node, found, positive_only=False, negated=False)
    return found


def positive_names(node: Node) -> list[str]:
    """Selection names used outside any `not`, in order of first use."""
    found: list[str] = []
    _collect(node, found, positive_only=True, negated=False)
    return found


def _collect(node: Node, found: list[str], positive_only: bool, negated: bool) -> None:
    def add(name: str) -> None:
        if name not in found and not (positive_only and negated):
            found.append(name)

    match node:
        case Name(name):
            add(name)
        case Near(left, right, _):
            add(left)
            add(right)
        case Not(operand):
            _collect(operand, found, positive_only, not negated)
        case And(operands) | Or(operands):
            for operand in operands:
                _collect(operand, found, positive_only, negated)


def evaluate(
    node: Node, present: Mapping[str, bool], positions: Mapping[str, Sequence[int]]
) -> bool:
    """The value of the condition given which selections matched and at which word positions."""
    match node:
        case Name(name):
            return present.get(name, False)
        case Not(operand):
            return not evaluate(operand, present, positions)
        case And(operands):
            return all(evaluate(o, present, positions) for o in operands)
        case Or(operands):
            return any(evaluate(o, present, positions) for o in operands)
        case Near(left, right, words):
            if not (present.get(left) and present.get(right)):
                return False
            return any(
                abs(a - b) <= words
                for a in positions.get(left, ())
                for b in positions.get(right, ())
            )
    return False


def possible(node: Node, present: Mapping[str, bool]) -> bool:
    """Whether the condition could hold somewhere in a text where the selections in `present`
    may match: an upper bound, since `not` and the distances of `near` are not known yet."""
    match node:
        case Name(name):
            return present.get(name, False)
        case Not(_operand):
            return True
        case And(operands):
            return all(possible(o, present) for o in operands)
        case Or(operands):
            return any(possible(o, present) for o in operands)
        case Near(left, right, _words):
            return present.get(left, False) and present.get(right, False)
    return False
