"""The label lattice: dominance is a partial order and join is the least upper bound."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clearance.labels import (
    PUBLIC,
    InvalidLabel,
    Label,
    Level,
    NotHostedHere,
    dominates,
    is_lowering,
    join,
    level_of,
    meet,
)

CODES = st.sampled_from(["SEMI", "BATT", "QNT", "AERO", "MAG"])
labels = st.builds(Label.of, st.sampled_from(list(Level)), st.frozensets(CODES, max_size=4))


@given(labels)
def test_dominance_is_reflexive(a):
    assert dominates(a, a)


@given(labels, labels)
def test_dominance_is_antisymmetric(a, b):
    if dominates(a, b) and dominates(b, a):
        assert a == b


@given(labels, labels, labels)
def test_dominance_is_transitive(a, b, c):
    if dominates(a, b) and dominates(b, c):
        assert dominates(a, c)


@given(labels, labels)
def test_join_dominates_both_sources(a, b):
    j = join(a, b)
    assert dominates(j, a) and dominates(j, b)


@given(labels, labels, labels)
def test_join_is_the_least_upper_bound(a, b, upper):
    if dominates(upper, a) and dominates(upper, b):
        assert dominates(upper, join(a, b))


@given(labels, labels, labels)
def test_join_is_commutative_associative_idempotent(a, b, c):
    assert join(a, b) == join(b, a)
    assert join(join(a, b), c) == join(a, join(b, c))
    assert join(a, a) == a


@given(labels, labels, labels)
def test_meet_is_the_greatest_lower_bound(a, b, lower):
    m = meet(a, b)
    assert dominates(a, m) and dominates(b, m)
    if dominates(a, lower) and dominates(b, lower):
        assert dominates(m, lower)


@given(st.lists(labels, max_size=6))
def test_derived_material_is_at_least_as_high_as_every_source(sources):
    derived = join(*sources)
    assert all(dominates(derived, s) for s in sources)
    assert join() == PUBLIC


@given(labels, labels)
def test_lowering_is_anything_the_new_label_does_not_dominate(old, new):
    assert is_lowering(old, new) == (not dominates(new, old))


def test_removing_a_compartment_is_lowering_even_at_the_same_level():
    assert is_lowering(Label.of(2, {"SEMI", "QNT"}), Label.of(2, {"SEMI"}))
    assert not is_lowering(Label.of(1, {"SEMI"}), Label.of(2, {"SEMI", "QNT"}))


@pytest.mark.parametrize("value", [3, "3"])
def test_specially_designated_secrets_are_refused_with_an_explanation(value):
    with pytest.raises(NotHostedHere) as exc:
        level_of(value)
    assert "特定秘密" in str(exc.value)
    with pytest.raises(NotHostedHere):
        Label.of(value)


@pytest.mark.parametrize("value", [-1, 4, "x", None, True, 2.5j])
def test_unknown_levels_are_invalid(value):
    with pytest.raises(InvalidLabel):
        level_of(value)


@pytest.mark.parametrize("code", ["semi", "S", "1ABC", "TOO-LONG-CODE-123", "SE MI", "", "ＳＥＭＩ"])
def test_compartment_codes_are_short_capitals(code):
    with pytest.raises(InvalidLabel):
        Label.of(1, {code})


def test_banner_names_level_in_both_languages_and_the_compartments():
    label = Label.of(2, {"SEMI", "AERO"})
    assert label.banner("ja") == "重要経済安保情報 // AERO / SEMI"
    assert label.banner("en") == "CRITICAL ECONOMIC SECURITY INFORMATION // AERO / SEMI"
    assert label.code() == "2:AERO+SEMI"
    assert PUBLIC.is_public and not Label.of(0, {"SEMI"}).is_public
