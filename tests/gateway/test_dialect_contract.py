"""The dialect contract (``gateway/dialects/base.py``) and the one reason table.

A dialect is refused at load when it does not implement what its spec declares; every
venue ``Reason`` has a neutral class and a wire code in every dialect; the REST status
and gateway error kind of each reason are derived from its class.
"""

from __future__ import annotations

import dataclasses
import sys
import types

import pytest

from openpit.api.errors import REASON_STATUS, reason_status
from openpit.core.enums import Reason
from openpit.core.reasons import REASON_CLASS, ReasonClass
from openpit.gateway.app import DIALECT_NAMES, load_dialects
from openpit.gateway.dialects import envelope, flat, typed
from openpit.gateway.dialects.base import MEMBERS, ContractError, DialectSpec, Group, bind
from openpit.gateway.model import CloseReason, ErrorKind, SessionReason, reason_kind
from openpit.gateway.subscriptions import Key

FAKE = "openpit.gateway.dialects.fake"


def _fake(spec: DialectSpec, **extra: object) -> types.ModuleType:
    """A minimal dialect: flat's core functions under another name and spec."""
    module = types.ModuleType(FAKE)
    for name in dir(flat):
        if name.startswith("render_") or name in ("head", "parse"):
            setattr(module, name, getattr(flat, name))
    module.spec = spec  # type: ignore[attr-defined]
    for name, value in extra.items():
        setattr(module, name, value)
    return module


def _spec(**changes: object) -> DialectSpec:
    return dataclasses.replace(flat.spec, **{"name": "fake", **changes})  # type: ignore[arg-type]


def test_every_registered_dialect_loads_with_its_spec() -> None:
    loaded = load_dialects()
    assert tuple(loaded) == DIALECT_NAMES
    for name, bound in loaded.items():
        assert bound.spec.name == name == bound.name
        for group in Group:
            present = getattr(bound, group.value) is not None
            assert present == (group in bound.spec.groups), (name, group)
    assert loaded["envelope"].screen is envelope
    assert loaded["typed"].stats is typed
    assert loaded["flat"].fills is None


def test_a_minimal_fake_dialect_with_a_true_spec_is_loaded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, FAKE, _fake(_spec()))
    assert load_dialects(("flat", "fake"))["fake"].spec.name == "fake"


@pytest.mark.parametrize(
    ("spec", "extra", "problem"),
    [
        (_spec(groups=frozenset({Group.FILLS})), {}, "declares fills but has no render_fill"),
        (_spec(), {"render_stats": flat.render_ping}, "has render_stats but does not declare"),
        (_spec(name="other"), {}, "its spec is named 'other'"),
        (_spec(close_codes={CloseReason.NORMAL: 1000}), {}, "no close code for"),
        (_spec(strikes={}), {}, "no strikes limit for rate_limited"),
        (_spec(endpoints=()), {}, "no endpoints"),
    ],
)
def test_a_fake_dialect_with_a_wrong_spec_is_refused_at_load(
    monkeypatch: pytest.MonkeyPatch, spec: DialectSpec, extra: dict[str, object], problem: str
) -> None:
    monkeypatch.setitem(sys.modules, FAKE, _fake(spec, **extra))
    with pytest.raises(ContractError, match=problem):
        load_dialects(("flat", "fake"))


def test_a_dialect_without_a_spec_or_a_core_function_is_refused() -> None:
    with pytest.raises(ContractError, match="no DialectSpec"):
        bind("fake", types.ModuleType(FAKE))
    module = _fake(_spec())
    del module.render_trade
    with pytest.raises(ContractError, match="missing core functions render_trade"):
        bind("fake", module)


def test_every_optional_group_has_one_member() -> None:
    assert set(MEMBERS) == set(Group)


def test_the_spec_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        flat.spec.name = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        flat.spec.close_codes[CloseReason.NORMAL] = 1  # type: ignore[index]


def test_the_subscription_key_hashes_like_its_tuple() -> None:
    key = Key("book", "BTC-USD", 10)
    assert key == ("book", "BTC-USD", 10)
    assert hash(key) == hash(("book", "BTC-USD", 10))
    assert (key.channel, key.instrument, key.variant) == ("book", "BTC-USD", 10)


# -- the one reason table ------------------------------------------------------------------


def test_every_reason_has_a_class_and_a_code_in_every_dialect() -> None:
    every = set(Reason)
    assert set(REASON_CLASS) == every
    assert set(flat.REASON_CODES) == every
    assert set(envelope.REASON_CODES) == every
    assert set(typed.REASON_CODES) == every
    assert set(REASON_STATUS) == every


def test_rest_status_and_gateway_kind_follow_the_class() -> None:
    status = {
        ReasonClass.INVALID: 400,
        ReasonClass.NOT_FOUND: 404,
        ReasonClass.CONFLICT: 409,
        ReasonClass.REJECTED: 422,
        ReasonClass.ENDED: 422,
    }
    for reason, cls in REASON_CLASS.items():
        assert reason_status(reason) == status[cls]
        expected = ErrorKind.NOT_FOUND if cls is ReasonClass.NOT_FOUND else ErrorKind.REJECTED
        assert reason_kind(reason) is expected


@pytest.mark.parametrize("reason", list(Reason))
def test_every_dialect_renders_every_reason(reason: Reason) -> None:
    kind = reason_kind(reason)
    assert f'"reason":"{reason.value}"'.encode() in flat.render_error(kind, "m", 1, reason=reason)
    out = envelope.render_error(kind, "m", 1, reason=reason)
    assert f'"code":"{envelope.REASON_CODES[reason]}"'.encode() in out
    assert f'"reason":"{reason.value}"'.encode() in out
    assert f'"details":"{reason.value}"'.encode() in typed.render_error(kind, "m", 1, reason=reason)


def test_a_session_reason_is_not_a_venue_reason() -> None:
    out = typed.render_error(ErrorKind.UNAUTHORIZED, "gone", 1, reason=SessionReason.AUTH_FAILED)
    assert b'"code":"AUTH_FAILED"' in out
    assert b"details" not in out
    assert b'"reason":"auth_failed"' in flat.render_error(
        ErrorKind.UNAUTHORIZED, "gone", 1, reason=SessionReason.AUTH_FAILED
    )
