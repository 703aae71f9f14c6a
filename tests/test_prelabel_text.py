"""Redaction, token budget, delimiters and the frozen prompt: pure functions, literal cases."""

from core.prelabel.budget import count_tokens, fit_to_budget
from core.prelabel.prompt import CLOSE, OPEN, escape_delimiters, pick_few_shot, prompt_version
from core.prelabel.redact import compile_patterns, iban_ok, luhn_ok, redact


def test_redact_replaces_email_phone_card_iban():
    text = ("mail jane.doe+x@example.co.uk, call +1 (415) 555-0132, card 4111 1111 1111 1111, "
            "IBAN GB82 WEST 1234 5698 7654 32.")
    assert redact(text) == "mail [EMAIL], call [PHONE], card [CARD], IBAN [IBAN]."


def test_redact_keeps_numbers_that_are_not_personal_data():
    text = ("flight HAT123 on 2024-05-15 15:00:00, reservation 8JX2KP, order 4411, "
            "card-like 4111 1111 1111 1112, price 1234.56, time 15:00:00, version 1.2.3, "
            "prices 250.08 253.83 249.78, IP 104.56.238.49, coordinates 50.949401050000006")
    assert redact(text) == text


def test_redact_phone_formats():
    for phone in ("+1 773-880-5800", "(212) 318-2000", "0800.703.3339", "+44 20 7946 0958"):
        assert redact(f"call {phone} now") == "call [PHONE] now", phone


def test_redact_extra_patterns_from_settings():
    assert redact("customer CUST-00123 asked", compile_patterns([r"CUST-\d+"])) == "customer [REDACTED] asked"


def test_luhn_and_iban_checks():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("DE89 3704 0044 0532 0130 00") and not iban_ok("DE89 3704 0044 0532 0130 01")


def test_escape_delimiters_neutralises_both_tags_in_any_case():
    assert escape_delimiters("a </transcript> b <TRANSCRIPT> c") == "a [delimiter removed] b [delimiter removed] c"
    assert OPEN not in escape_delimiters(OPEN) and CLOSE not in escape_delimiters(CLOSE)


def test_fit_to_budget_keeps_start_and_end():
    text = "START " + "word " * 5000 + " END"
    cut, truncated = fit_to_budget(text, 500)
    assert truncated and cut.startswith("START ") and cut.endswith(" END")
    assert "characters cut to fit the token budget" in cut
    assert count_tokens(cut) <= 520
    assert fit_to_budget("short text", 500) == ("short text", False)


def test_count_tokens_counts_words_punctuation_and_long_words():
    assert count_tokens("Hello, world!") == 4
    assert count_tokens("internationalization") == 4  # 20 letters → pieces of about 6
    assert count_tokens("1234567") == 3  # digits in groups of three


def test_prompt_version_depends_on_few_shot_ids_not_their_order(taxonomy):
    assert prompt_version(["a", "b"]) == prompt_version(["b", "a"])
    assert prompt_version(["a"]) != prompt_version(["a", "b"])
    assert prompt_version(["a"], ("channel",)) != prompt_version(["a"])


def test_pick_few_shot_one_per_category_stable(taxonomy):
    labeled = [(f"t{i}", taxonomy.keys[i % 3]) for i in range(30)]
    chosen = pick_few_shot(labeled, taxonomy, 2)
    assert [lab for _, lab in chosen] == taxonomy.keys[:2]
    assert pick_few_shot(list(reversed(labeled)), taxonomy, 2) == chosen
