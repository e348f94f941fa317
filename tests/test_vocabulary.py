"""One vocabulary: every enum a person reads has a French word for each of its members."""

from __future__ import annotations

import enum
import inspect

import pytest

import models
import vocabulary
from models import CellStatus, DocumentType, PaymentMethod, TokenPurpose
from vocabulary import LEGEND, WORDS, enum_choices, enum_label

# Never shown to anyone: the purpose of a link token stays in the code.
UNSEEN = {TokenPurpose}
SHOWN = [
    member
    for member in vars(models).values()
    if inspect.isclass(member) and issubclass(member, enum.Enum) and member not in UNSEEN
]


@pytest.mark.parametrize("enum_class", SHOWN, ids=lambda enum_class: enum_class.__name__)
def test_every_member_of_a_shown_enum_has_a_word(enum_class):
    assert set(WORDS[enum_class]) == set(enum_class)
    assert all(word.strip() == word and word for word in WORDS[enum_class].values())


def test_a_label_capitalises_the_word_and_keeps_acronyms():
    assert enum_label(DocumentType.INSURANCE) == "Attestation d'assurance"
    assert vocabulary.DOCUMENT_TYPES[DocumentType.INSURANCE] == "attestation d'assurance"
    assert enum_label(PaymentMethod.CESU) == "CESU"
    assert ("rib", "RIB") in enum_choices(DocumentType)


def test_the_legend_names_every_day_status_once_with_its_word():
    assert [status for status, _label, _meaning in LEGEND].count(CellStatus.CLOSED) == 1
    assert {status for status, _label, _meaning in LEGEND} == set(CellStatus)
    for status, label, _meaning in LEGEND:
        assert label == enum_label(status)
