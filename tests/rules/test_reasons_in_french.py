"""The rules engine's reasons, and the parsers' refusals, in French (issue 16).

The reasons are the text technicians read most: each is checked for English words left
over, for the note's words, and for the note's own sentences quoted as they are."""

from __future__ import annotations

import pytest
from helpers.lib_french import assert_french, english_words, in_french

from stager.errors import BadInput
from stager.i18n import _
from stager.rules import inputs
from stager.rules.engine import Query, decide
from stager.rules.inputs import parse_router
from stager.rules.loader import rules


@pytest.fixture
def french():
    yield from in_french()


#: One query for each reason the engine gives (refusals, conditions, warnings).
QUERIES = {
    "forbidden-version": Query("p22", 314),
    "unknown-kit": Query("p22", 999),
    "unknown-terminal": Query("p22", 318, terminal=999),
    "incompatible-terminal": Query("p22", 318, terminal=241),
    "terminal-hardware": Query("p22", 212, built=(2023, 5)),
    "terminal-hardware-not-applicable": Query("wbac", 318, built=(2024, 1)),
    "master-sd-reminder": Query("p22", 318),
    "april-2023-reminder": Query("p22", 212),
    "master-sd-required": Query("p22", 318, from_kit=212),
    "downgrade": Query("p22", 317, from_kit=318),
    "same-version": Query("p22", 318, from_kit=318),
    "ocpp-protocol": Query("p22", 212, ocpp="1.6"),
    "mid-meter": Query("p22", 212, mid=True),
    "router-unknown": Query("p22", 318, router=parse_router("f3426:5")),
    "router-incompatible": Query("p22", 318, router=parse_router("f3426:7")),
    "static-lan-ip": Query("p22", 318, router=parse_router("f3426:9")),
    "multi-operator-sim": Query("p22", 318, router=parse_router("f3x26q:8")),
    "dhcp-4g": Query("p22", 313, router=parse_router("f3x26q:9")),
    "newer-kit-available": Query("p22", 317),
}


def _reasons(query):
    d = decide(query)
    return [*d.refusals, *d.conditions, *d.warnings]


@pytest.mark.parametrize("code", sorted(QUERIES))
def test_every_reason_is_french(french, code):
    reasons = {r.code: r for r in _reasons(QUERIES[code])}
    assert code in reasons  # the codes stay English
    for r in reasons.values():
        assert_french(r.message)
        if r.brief:
            assert_french(r.brief)


@pytest.mark.parametrize("code", sorted(QUERIES))
def test_every_reason_is_english_by_default(code):
    reason = next(r for r in _reasons(QUERIES[code]) if r.code == code)
    assert english_words(reason.message)


def test_the_note_s_own_sentence_stays_as_the_note_says_it(french):
    (reason,) = decide(Query("p22", 314)).refusals
    assert "« La version OCPP 314 ne doit pas être utilisée »" in reason.message
    assert reason.message.startswith("Le kit 314 ne doit jamais être utilisé, quel que soit le modèle")


def test_the_same_sentence_is_quoted_in_english_too():
    (reason,) = decide(Query("p22", 314)).refusals
    assert '"La version OCPP 314 ne doit pas être utilisée"' in reason.message
    assert reason.message.startswith("Kit 314 must never be used, whatever the model")


def test_the_master_sd_refusal_uses_the_note_s_words(french):
    (reason,) = decide(Query("p22", 318, from_kit=212)).refusals
    assert "la MASTER SD (réf. MADIC 17806385, procédure NT-23006)" in reason.message
    assert "jamais avec un fichier préparé par stager" in reason.message
    assert "Migrez d'abord avec la MASTER SD, puis préparez le kit 318." in reason.message


def test_note_1_s_steps_are_french_and_numbered(french):
    (condition,) = decide(Query("p22", 318, router=parse_router("f3426:9"))).conditions
    lines = condition.message.split("\n")
    assert lines[0].startswith("Configuration du kit OCPP en IP LAN fixe obligatoire (note 1) : routeur F3426")
    assert lines[1] == "  1. Se connecter à l'interface web du kit OCPP à l'adresse 192.168.1.254:5000."
    assert "Renseigner LAN_StaticIP à 192.168.1.254" in condition.message
    # the site visit, with the note's sentence of section 7 as the note says it
    assert lines[-1].endswith(
        "(section 7 : « Toutes modifications du paramétrage des routeurs, nécessite un déplacement sur site »)."
    )


def test_every_sentence_of_the_rules_data_has_its_french(french):
    r = rules()
    texts = [r.site_visit, r.latest.section, *(x.description for x in r.routers.values())]
    for note in r.notes.values():
        texts += [note.title, *note.steps, note.after]
    for text in texts:
        assert _(text) != text, text
        assert_french(_(text))


def test_a_build_month_is_written_as_a_french_reader_writes_it(french):
    reasons = {r.code: r.message for r in decide(Query("p22", 212, built=(2023, 5))).refusals}
    assert reasons["terminal-hardware"].startswith(
        "Ce terminal a été fabriqué en mai 2023, donc après le changement de composant d'avril 2023 : il ne peut pas "
        "fonctionner avec la version de terminal 241, une version 1XX/2XX "
        "(note du fabricant, section 2 PREAMBULE, NB). "
    )


def _refusal(query, code):
    return {r.code: r.message for r in decide(query).refusals}[code]


def _warning(query, code):
    return {w.code: w.message for w in decide(query).warnings}[code]


def test_a_list_of_terminals_agrees_with_its_count(french):
    many = _refusal(Query("p22", 318, terminal=241), "incompatible-terminal")
    assert many.endswith(" : avec le kit 318, utilisez l'un des terminaux 312 ou 313.")
    one = _refusal(Query("p22", 316, terminal=241), "incompatible-terminal")
    assert one.endswith(" : avec le kit 316, utilisez le terminal 311.")


def test_the_downgrade_quotes_the_note_as_the_newer_kit_warning_does(french):
    said = "MADIC INDUSTRIES préconise le passage en dernière version OCPP"
    assert _warning(Query("p22", 316, from_kit=318), "downgrade") == (
        "Le kit 316 est plus ancien que le kit installé (318) : c'est un retour à une version antérieure. "
        f"{said} (note du fabricant, fin de la note, après la section 7)."
    )
    assert said in _warning(Query("p22", 316, from_kit=318), "newer-kit-available")
    brief = {w.code: w.brief for w in decide(Query("p22", 316)).warnings}["newer-kit-available"]
    assert brief == f"Un kit plus récent existe pour la borne Pulse 22 GL / WL : 400 ({said})."


def test_the_mid_meter_refusal_has_one_pair_of_parentheses(french):
    assert _refusal(Query("p22", 212, mid=True), "mid-meter") == (
        "Un compteur MID ne fonctionne qu'à partir du kit 310 et de la version correspondante du terminal "
        "(note du fabricant, section 2 PREAMBULE, NB) : le kit 212 ne peut pas le gérer. "
        "Choisissez le kit 310 ou plus récent."
    )


def test_the_reminders_one_line_forms_are_french(french):
    d = decide(Query("p22", 212))
    briefs = {w.code: w.brief for w in d.warnings}
    assert briefs["april-2023-reminder"] == (
        "Le terminal 241 est en 2XX : cette version ne fonctionne pas sur un terminal fabriqué depuis avril 2023 "
        "(--built pour vérifier)."
    )
    d = decide(Query("p22", 318))
    assert {w.code: w.brief for w in d.warnings}["master-sd-reminder"].startswith("Le kit 318 est en 3XX : ")


BAD = [
    (inputs.parse_model, "pulse23", "modèle inconnu « pulse23 ». Vouliez-vous dire p22 ? Modèles valides : "),
    (inputs.parse_version, "31", "la version de kit « 31 » n'est pas un nombre à 3 chiffres de 100 à 999"),
    (lambda v: inputs.parse_version(v, "terminal"), "x", "la version de terminal « x » n'est pas"),
    (lambda v: inputs.parse_version(v, "target kit"), "x", "la version du kit cible « x » n'est pas"),
    (inputs.parse_month, "2023/04", "le mois de fabrication « 2023/04 » n'est pas de la forme AAAA-MM"),
    (
        inputs.parse_month,
        "2023-13",
        "le mois de fabrication « 2023-13 » n'a pas de mois 13 : les mois vont de 01 à 12.",
    ),
    (inputs.parse_month, "1999-01", "n'est pas un vrai mois de fabrication"),
    (inputs.parse_ocpp, "2.0", "le protocole OCPP « 2.0 » n'est ni 1.5 (SOAP) ni 1.6 (JSON)."),
    (
        inputs.parse_router,
        "f3426",
        "le routeur « f3426 » n'a pas de version de logiciel embarqué : écrivez NOM:VERSION",
    ),
    (inputs.parse_router, "f9999:9", "routeur inconnu « f9999 » : la note (section 7) connaît f3426, f3x26q."),
    (inputs.parse_router, "f3426:x", "la version de routeur « x » n'est pas un nombre"),
    (inputs.parse_router, "f3426:12345", "n'est pas une version de logiciel embarqué de routeur"),
]


@pytest.mark.parametrize(("parser", "value", "said"), BAD)
def test_bad_input_is_refused_in_french(french, parser, value, said):
    with pytest.raises(BadInput) as e:
        parser(value)
    assert said in e.value.message
    assert_french(e.value.message)


def test_a_long_value_is_cut_with_a_french_count(french):
    with pytest.raises(BadInput) as e:
        inputs.parse_model("x" * 5000)
    assert "... (5\u202f000 caractères)" in e.value.message
