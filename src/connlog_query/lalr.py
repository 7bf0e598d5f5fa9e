"""A lean driver for a Lark LALR parser: Lark's own tables, lexer patterns and callbacks.

Lark analyses ``extended.lark`` and builds the LALR table, one scanner per parser state (its
contextual lexer) and the tree-builder callbacks. Its general run-time driver then spends most
of a parse on per-token machinery our grammar does not use: line and column counting, a rich
``Token`` object per token, a lexer generator, a parser-state object. :class:`LeanParser` runs
the same table, the same per-state patterns and the same callbacks with none of that, which
makes an extended-mode parse about twice as fast (``benchmarks/peers.py``).

It only takes the successful path. At the first token no state accepts, :meth:`LeanParser.run`
returns :data:`REJECTED` and the caller parses the text again with Lark, whose exception
(expected terminals, position) it turns into the error message, so errors are exactly Lark's.
:meth:`LeanParser.from_lark` declines (returns ``None``) any parser that uses a feature the
driver does not reproduce (lexer callbacks, position propagation, ``regex``, the byte mode), in
which case Lark's driver runs every parse. ``tests/test_lalr.py`` checks that both drivers
build the same result for generated queries.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["REJECTED", "LeanParser", "LeanToken"]


class _Rejected:
    """The type of :data:`REJECTED`."""

    def __repr__(self) -> str:
        return "REJECTED"


REJECTED: Any = _Rejected()
"""What :meth:`LeanParser.run` returns when the text is not in the language."""


class LeanToken:
    """A token as the grammar callbacks see it: ``type``, ``value``, ``start_pos``, ``end_pos``.

    ``str(token)`` is its text, as for Lark's ``Token`` (a ``str`` subclass).
    """

    __slots__ = ("end_pos", "start_pos", "type", "value")

    def __init__(self, type_: str, value: str, start_pos: int, end_pos: int) -> None:
        self.type = type_
        self.value = value
        self.start_pos = start_pos
        self.end_pos = end_pos

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"LeanToken({self.type!r}, {self.value!r}, {self.start_pos}, {self.end_pos})"


# A table entry: (True, next state) to shift; (False, (size, callback, goto)) to reduce, where
# goto maps the state uncovered by the reduction to the next one (callback None: the child).
_Action = tuple[bool, Any]


class LeanParser:
    """Runs one Lark LALR parser (``lexer="contextual"`` or ``"basic"``) without Lark's driver."""

    def __init__(
        self,
        states: dict[int, dict[str, _Action]],
        start: int,
        end: int,
        matchers: dict[int, Callable[[str, int], re.Match[str] | None]],
        ignore: frozenset[str],
        token_callbacks: dict[str, Callable[[Any], Any]],
    ) -> None:
        self._states = states
        self._start = start
        self._end = end
        self._matchers = matchers
        self._ignore = ignore
        self._token_callbacks = token_callbacks

    @classmethod
    def from_lark(cls, parser: Any, start: str = "start") -> LeanParser | None:
        """The lean driver of Lark parser ``parser``, or ``None`` if it cannot reproduce it."""
        from lark.lexer import BasicLexer, ContextualLexer
        from lark.parse_tree_builder import ExpandSingleChild
        from lark.parsers.lalr_analysis import Shift

        options = parser.options
        conf = parser.lexer_conf
        if (
            options.parser != "lalr"
            or options.propagate_positions
            or options.regex
            or options.use_bytes
            or options.postlex is not None
            or conf.callbacks
        ):
            return None
        frontend = parser.parser
        table = frontend.parser.parser.parse_table
        callbacks = frontend.parser.parser.callbacks
        lexer = frontend.lexer
        lexers: dict[int, Any]
        if isinstance(lexer, ContextualLexer):
            lexers = dict(lexer.lexers)
        elif isinstance(lexer, BasicLexer):
            lexers = dict.fromkeys(table.states, lexer)
        else:
            return None

        compiled: dict[int, Callable[[str, int], re.Match[str] | None]] = {}
        matchers: dict[int, Callable[[str, int], re.Match[str] | None]] = {}
        for state, state_lexer in lexers.items():
            key = id(state_lexer)
            if key not in compiled:
                if type(state_lexer) is not BasicLexer:
                    return None
                state_lexer.scanner  # noqa: B018 -- builds the scanner and its callbacks
                if state_lexer.callback:
                    return None  # string terminals folded into regexps ("unless" callbacks)
                pattern = "|".join(
                    f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in state_lexer.terminals
                )
                compiled[key] = re.compile(pattern, options.g_regex_flags).match
            matchers[state] = compiled[key]

        # The goto part of the table, by non-terminal: state -> state after reducing to it.
        gotos: dict[str, dict[int, int]] = {}
        for state, actions in table.states.items():
            for symbol, (action, arg) in actions.items():
                if action is Shift and not symbol.isupper() and symbol != "$END":
                    gotos.setdefault(symbol, {})[state] = arg
        states: dict[int, dict[str, _Action]] = {}
        for state, actions in table.states.items():
            row: dict[str, _Action] = {}
            for symbol, (action, arg) in actions.items():
                if action is Shift:
                    row[symbol] = (True, arg)
                else:
                    rule = arg
                    size = len(rule.expansion)
                    callback = callbacks[rule]
                    # `?rule` with one child: Lark's callback returns the child itself.
                    if size == 1 and type(callback) is ExpandSingleChild:
                        callback = None
                    row[symbol] = (False, (size, callback, gotos.get(rule.origin.name, {})))
            states[state] = row
        token_callbacks = {
            name: callback for name, callback in callbacks.items() if isinstance(name, str)
        }
        return cls(
            states,
            table.start_states[start],
            table.end_states[start],
            matchers,
            frozenset(conf.ignore),
            token_callbacks,
        )

    def run(self, text: str) -> Any:
        """Parse ``text`` as Lark would and return the result, or :data:`REJECTED`."""
        states = self._states
        matchers = self._matchers
        ignore = self._ignore
        token_callbacks = self._token_callbacks
        end_state = self._end
        state = self._start
        state_stack = [state]
        value_stack: list[Any] = []
        push_state = state_stack.append
        push_value = value_stack.append
        pos = 0
        length = len(text)
        while True:
            if pos < length:
                match = matchers[state](text, pos)
                if match is None:
                    return REJECTED
                type_ = match.lastgroup or ""
                end = match.end()
                if type_ in ignore:
                    pos = end
                    continue
                token: Any = LeanToken(type_, match.group(), pos, end)
                pos = end
            else:
                type_ = "$END"
                token = None
            action = states[state].get(type_)
            if action is None:
                return REJECTED
            shift, arg = action
            while not shift:
                size, reduce, goto = arg
                if size == 1:
                    state_stack.pop()
                    child = value_stack.pop()
                    value = child if reduce is None else reduce([child])
                elif size:
                    children = value_stack[-size:]
                    del state_stack[-size:]
                    del value_stack[-size:]
                    value = reduce(children)
                else:
                    value = reduce([])
                state = goto[state_stack[-1]]
                push_state(state)
                push_value(value)
                if token is None and state == end_state:
                    return value
                action = states[state].get(type_)
                if action is None:
                    return REJECTED
                shift, arg = action
            if token is None:
                return REJECTED  # a valid table never shifts the end marker
            state = arg
            push_state(state)
            callback = token_callbacks.get(type_)
            push_value(token if callback is None else callback(token))
