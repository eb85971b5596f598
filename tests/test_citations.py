"""Citation checks on recorded model replies: good, wrong, missing and invented markers."""

from __future__ import annotations

import pytest

from qa.citations import Check, Verifier, answer_confidence, split_answer, support
from qa.evidence import Source
from qa.passages import Passage

ARTICLE = (
    "Zhao Leji, China’s No. 3 official, will head the delegation for a “goodwill visit”. "
    "The delegation will be in North Korea until Saturday, China’s Foreign Ministry said. "
    "Russia vetoed a UN Security Council resolution last month, while China abstained."
)


def sources_from(sentences: list[str]) -> list[Source]:
    passage = Passage(ARTICLE, "seed.txt", "h", "Title", "Bloomberg", "2024", "", 0, len(ARTICLE), 1, 1.0)
    out = []
    for number, sentence in enumerate(sentences, 1):
        start = ARTICLE.index(sentence)
        out.append(Source(number, sentence, start, start + len(sentence), passage, 1.0))
    return out


SOURCES = sources_from(
    [
        "Zhao Leji, China’s No. 3 official, will head the delegation for a “goodwill visit”.",
        "The delegation will be in North Korea until Saturday, China’s Foreign Ministry said.",
        "Russia vetoed a UN Security Council resolution last month, while China abstained.",
    ]
)
verifier = Verifier()


def test_a_correct_marker_is_verified() -> None:
    verdict = verifier.verify("Zhao Leji will head the delegation [1].", "Who will head the delegation?", SOURCES)
    [sentence] = verdict.sentences
    assert (sentence.state, sentence.sources) == (Check.VERIFIED, (1,))
    assert not verdict.abstain


def test_a_wrong_marker_is_moved_to_the_source_that_supports_it() -> None:
    verdict = verifier.verify(
        "The delegation stays until Saturday [3].", "How long will the delegation stay in North Korea?", SOURCES
    )
    [sentence] = verdict.sentences
    assert (sentence.state, sentence.cited, sentence.sources) == (Check.REATTRIBUTED, (3,), (2,))


def test_an_invented_marker_that_points_nowhere_is_fixed() -> None:
    verdict = verifier.verify("Russia vetoed the resolution [7].", "What did Russia veto?", SOURCES)
    [sentence] = verdict.sentences
    assert (sentence.state, sentence.sources) == (Check.REATTRIBUTED, (3,))


def test_a_missing_marker_is_added_when_a_source_clearly_supports_the_sentence() -> None:
    verdict = verifier.verify("China abstained.", "What did China do at the UN Security Council vote?", SOURCES)
    [sentence] = verdict.sentences
    assert (sentence.state, sentence.sources) == (Check.ADDED, (3,))


def test_an_unsupported_sentence_is_dropped_and_alone_means_abstaining() -> None:
    verdict = verifier.verify(
        "Kim Jong Un will meet Xi Jinping in Beijing [1].", "Who will the delegation meet?", SOURCES
    )
    assert verdict.sentences[0].state is Check.UNSUPPORTED
    assert verdict.abstain


def test_a_wrong_number_is_not_supported() -> None:
    assert support("The panel worked for 12 years.", "How long?", "the panel reported for 15 years") == 0.0


def test_supported_and_unsupported_sentences_are_separated() -> None:
    reply = "Zhao Leji heads the delegation [1]. He will also sign a trade deal worth 5 billion dollars [1]."
    verdict = verifier.verify(reply, "Who heads the delegation?", SOURCES)
    assert [s.state for s in verdict.sentences] == [Check.VERIFIED, Check.UNSUPPORTED]
    assert not verdict.abstain


@pytest.mark.parametrize(
    "reply",
    ["NOT IN SOURCES", "not in sources.", "The sources do not say.", "I cannot determine that from the sources."],
)
def test_declining_replies_are_abstentions(reply: str) -> None:
    verdict = verifier.verify(reply, "What is Kim's favourite food?", SOURCES)
    assert verdict.declined and verdict.abstain


def test_a_reply_made_only_of_a_marker_is_no_answer() -> None:
    assert verifier.verify("[1]", "Who heads the delegation?", SOURCES).abstain


def test_an_answer_to_a_question_the_sources_do_not_address_is_withheld() -> None:
    # The right passage, the wrong question: nothing in the sources is about Japan.
    verdict = verifier.verify(
        "The delegation will be in North Korea until Saturday [2].",
        "How long will the Japanese delegation stay in North Korea?",
        SOURCES,
    )
    assert verdict.off_question and verdict.abstain


def test_markers_after_the_full_stop_belong_to_the_sentence_before() -> None:
    assert split_answer("Answer: Zhao Leji heads it. [1] It ends Saturday. [2]") == [
        ("Zhao Leji heads it.", (1,)),
        ("It ends Saturday.", (2,)),
    ]


def test_several_numbers_in_one_marker() -> None:
    assert split_answer("Both happened [1, 3].") == [("Both happened.", (1, 3))]


def test_a_hesitant_answer_is_withheld() -> None:
    reply = "The delegation will be in North Korea until Saturday [2]."
    question = "How long will the delegation stay in North Korea?"
    assert not verifier.verify(reply, question, SOURCES, confidence=-0.2).abstain
    verdict = verifier.verify(reply, question, SOURCES, confidence=-2.5)
    assert verdict.unsure and verdict.abstain


def test_confidence_is_read_on_the_words_the_answer_adds() -> None:
    tokens = [
        ("The", -0.01),
        (" delegation", -0.02),
        (" stays", -0.05),
        (" until", -0.1),
        (" Saturday", -1.7),
        (" [", -0.01),
        ("2", -0.3),
        ("]", 0.0),
    ]
    assert answer_confidence(tokens, "How long will the delegation stay?") == -1.7
    assert answer_confidence([], "anything") is None
