"""A seeded sentence grammar over a few hundred words: the text side of the synthetic speech corpus.

Training and evaluation draw from the same vocabulary with different seeds, so the evaluation set has new
word combinations but no out-of-vocabulary words; ``random.Random(seed)`` makes the sentences reproducible.
"""
from __future__ import annotations

import random

NAMES = ("john", "mary", "peter", "anna", "david", "sarah", "thomas", "laura", "james", "helen",
         "robert", "alice", "george", "emma", "frank", "lucy", "henry", "clara", "martin", "rose")
ADJECTIVES = ("old", "young", "small", "large", "quiet", "loud", "happy", "tired", "bright", "dark",
              "cold", "warm", "green", "red", "blue", "white", "black", "brown", "yellow", "heavy",
              "light", "quick", "slow", "strange", "gentle", "angry", "clever", "foolish", "empty", "full",
              "narrow", "wide", "ancient", "modern", "rich", "poor", "busy", "lazy", "proud", "honest",
              "sharp", "soft", "rough", "smooth", "wild", "tame", "famous", "simple", "silver", "golden")
NOUNS = ("man", "woman", "child", "boy", "girl", "dog", "cat", "horse", "bird", "fish",
         "king", "queen", "doctor", "teacher", "farmer", "sailor", "soldier", "captain", "father", "mother",
         "house", "garden", "river", "forest", "mountain", "village", "city", "road", "bridge", "church",
         "ship", "boat", "train", "car", "table", "chair", "window", "door", "book", "letter",
         "box", "basket", "bottle", "cup", "plate", "knife", "key", "lamp", "clock", "picture",
         "apple", "bread", "cheese", "coffee", "water", "milk", "stone", "tree", "flower", "field",
         "sun", "moon", "star", "cloud", "rain", "snow", "wind", "fire", "night", "morning",
         "hat", "coat", "shoe", "bag", "ring", "coin", "song", "story", "game", "gift",
         "room", "kitchen", "school", "market", "office", "station", "island", "lake", "hill", "wall")
VERBS = ("saw", "found", "took", "gave", "made", "kept", "held", "left", "lost", "brought",
         "bought", "sold", "carried", "painted", "opened", "closed", "watched", "followed", "helped", "called",
         "pushed", "pulled", "washed", "cleaned", "fixed", "broke", "moved", "dropped", "caught", "threw",
         "loved", "liked", "wanted", "needed", "showed", "sent", "wrote", "read", "built", "cooked")
INTRANSITIVE = ("slept", "laughed", "smiled", "waited", "walked", "danced", "sang", "cried", "ran", "jumped",
                "stopped", "listened", "worked", "played", "rested", "shouted", "whispered", "arrived", "stayed", "fell")
ADVERBS = ("slowly", "quickly", "quietly", "loudly", "happily", "sadly", "gently", "suddenly", "carefully", "again",
           "today", "yesterday", "often", "never", "always", "there", "here", "early", "late", "together")
PREPOSITIONS = ("in", "on", "under", "near", "behind", "beside", "across", "through", "over", "into",
                "from", "with", "without", "around", "after", "before")
DETERMINERS = ("the", "a", "this", "that", "my", "your", "his", "her", "our", "their", "every", "one")
NUMBERS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve")
CONTRACTIONS = ("didn't", "wasn't", "couldn't", "won't", "can't", "isn't")
# "an" only before the vowel-initial adjectives/nouns keeps the sentences plausible for the synthesizer.
_VOWELS = "aeiou"


def vocabulary() -> list[str]:
    """Every word the grammar can produce, sorted."""
    words = {*NAMES, *ADJECTIVES, *NOUNS, *VERBS, *INTRANSITIVE, *ADVERBS, *PREPOSITIONS, *DETERMINERS,
             *NUMBERS, *CONTRACTIONS, "an", "and", "it", "was", "he", "she", "they", "very", "see"}
    words.update(f"{n}'s" for n in NAMES)
    return sorted(words)


def _noun_phrase(rng: random.Random) -> list[str]:
    kind = rng.random()
    if kind < 0.15:
        return [rng.choice(NAMES)]
    if kind < 0.25:
        return [rng.choice(NUMBERS), rng.choice(ADJECTIVES), rng.choice(NOUNS)]
    if kind < 0.35:
        return [rng.choice(NAMES) + "'s", rng.choice(NOUNS)]
    words = [rng.choice(ADJECTIVES)] if rng.random() < 0.6 else []
    if rng.random() < 0.2:
        words.insert(0, "very")
    words.append(rng.choice(NOUNS))
    det = rng.choice(DETERMINERS)
    if det == "a" and words[0][0] in _VOWELS:
        det = "an"
    return [det, *words]


def sentence(rng: random.Random) -> str:
    """One sentence of 3 to about 14 words."""
    subject = _noun_phrase(rng)
    form = rng.random()
    if form < 0.45:
        words = [*subject, rng.choice(VERBS), *_noun_phrase(rng)]
    elif form < 0.7:
        words = [*subject, rng.choice(INTRANSITIVE)]
    elif form < 0.85:
        words = [*subject, rng.choice(CONTRACTIONS), "see", *_noun_phrase(rng)] if rng.random() < 0.5 else \
            [*subject, "was", rng.choice(ADJECTIVES)]
    else:
        words = [*subject, rng.choice(VERBS), "it", "and", rng.choice(("he", "she", "they")), rng.choice(INTRANSITIVE)]
    if rng.random() < 0.5:
        words += [rng.choice(PREPOSITIONS), *_noun_phrase(rng)]
    if rng.random() < 0.4:
        words.append(rng.choice(ADVERBS))
    return " ".join(words)


def sentences(count: int, seed: int, exclude: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """``count`` distinct sentences from ``seed``, none of them in ``exclude``."""
    rng = random.Random(seed)
    out: list[str] = []
    seen = set(exclude)
    while len(out) < count:
        text = sentence(rng)
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out
