"""Reading verbatims on this machine: words and their stems (English and German), negation, and
a lexicon sentiment.

Pure Python with one small dependency (snowballstemmer, the Snowball stemmers of the Sphinx
search); nothing is downloaded and no text leaves the process. The sentiment follows VADER's
rules (Hutto & Gilbert 2014: valence lexicon, negation damping, intensifiers, "but" shifting the
weight to what follows, the normalised compound score), with a lexicon of our own for the words
customers write about software, in both languages Rebound speaks.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cache, lru_cache

import snowballstemmer

WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*|[.!?;:,]", re.UNICODE)
CLAUSE_END = {".", "!", "?", ";", ":", ","}

_EN_STOP = """a an and are as at be been but by for from had has have i in is it its it's of on or our so that the
their them there they this to too us was we were what when which who will with you your my me am do does did than then
just also very really all any some more most can could would should get got every way much many even still
only"""
_DE_STOP = """der die das den dem des ein eine einen einem einer und oder aber ist sind war waren wir uns unser unsere
ich es er sie ihr mit für von zu zum zur im in am an auf aus bei nach wie was wenn dass so auch noch nur sehr schon man
hat haben wird werden wurde wurden sein als dies diese dieser jede jeden jeder sich mehr immer seit uns ganz
gibt geht etwas alles viele"""
STOPWORDS = {"en": frozenset(_EN_STOP.split()), "de": frozenset(_DE_STOP.split())}
NEGATORS = {
    # English (n't is split off as "not" by `words`)
    "not", "no", "never", "nothing", "none", "nobody", "neither", "nor", "without", "hardly", "cannot", "cant",
    # German
    "nicht", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie", "niemals", "nichts", "niemand", "ohne",
    "kaum",
}  # fmt: skip
NEGATION_REACH = 3  # a negator turns the next three words, within the clause
INTENSIFIERS = {
    "very": 0.3, "really": 0.3, "extremely": 0.4, "so": 0.2, "super": 0.3, "incredibly": 0.4, "totally": 0.3,
    "absolutely": 0.4, "way": 0.3, "too": 0.3, "far": 0.2, "constantly": 0.3, "always": 0.1,
    "sehr": 0.3, "extrem": 0.4, "total": 0.3, "echt": 0.3, "wirklich": 0.3, "zu": 0.2, "viel": 0.2, "absolut": 0.4,
    "ständig": 0.3, "überhaupt": 0.3, "gar": 0.3, "äußerst": 0.4,
}  # fmt: skip
CONTRAST = {"but", "however", "although", "though", "yet", "aber", "jedoch", "allerdings", "trotzdem", "doch"}

# Valence -3 … +3. Entries are stemmed when loaded, so one form covers its inflections.
LEXICON = {
    "en": {
        # positive
        "good": 1.9, "great": 3.0, "excellent": 3.0, "fantastic": 3.0, "brilliant": 3.0, "amazing": 3.0,
        "awesome": 3.0, "love": 3.0, "like": 1.5, "happy": 2.5, "pleased": 2.2, "helpful": 2.0, "friendly": 2.0,
        "responsive": 1.8, "fast": 1.6, "quick": 1.6, "quickly": 1.6, "instantly": 1.6, "snappy": 1.8,
        "easy": 1.9, "simple": 1.2, "smooth": 1.9, "painless": 1.8, "intuitive": 2.0, "clean": 1.2, "clear": 1.4,
        "reliable": 2.0, "solid": 1.8, "recommend": 2.2, "best": 3.0, "better": 1.9, "fair": 1.3, "worth": 1.5,
        "reasonable": 1.3, "joy": 2.8, "perfect": 3.0, "exactly": 0.8, "solved": 1.6, "fixed": 1.4, "save": 1.5,
        "saves": 1.5, "thanks": 1.9, "thank": 1.9, "well": 1.0, "practical": 1.3, "cheaper": 1.2, "nice": 1.8,
        "fine": 0.8, "acceptable": 0.5, "improved": 1.7, "valuable": 2.0,
        # negative
        "bad": -2.5, "terrible": -3.0, "awful": -3.0, "horrible": -3.0, "poor": -2.1, "worse": -2.1,
        "worst": -3.0, "slow": -1.9, "painfully": -1.5, "forever": -1.2, "expensive": -1.8, "overpriced": -2.3,
        "confusing": -2.0, "clunky": -2.0, "cluttered": -1.6, "inconsistent": -1.5, "hard": -1.2, "difficult": -1.6,
        "broken": -2.3, "breaks": -2.0, "bug": -1.8, "bugs": -1.8, "crash": -2.2, "crashes": -2.2,
        "down": -0.8, "outage": -2.2, "outages": -2.2, "downtime": -2.0, "timeout": -1.8, "timeouts": -1.8,
        "lag": -1.6, "unreliable": -2.2, "missing": -1.4, "lacks": -1.6, "lack": -1.6, "disappointed": -2.3,
        "disappointing": -2.3, "frustrating": -2.3, "annoying": -2.0, "useless": -2.6, "waited": -1.3,
        "wait": -1.0, "late": -1.2, "wrong": -1.8, "failed": -2.0, "fail": -2.0, "locked": -1.2,
        "problem": -1.3, "problems": -1.3, "issue": -1.1, "issues": -1.1, "complaints": -1.2, "complaint": -1.2,
        "cancelled": -1.2, "dragged": -1.5, "unfortunately": -1.5, "thin": -1.0, "bots": -1.0,
        "rising": -0.8, "nobody": -1.0,
        "longer": -0.8, "minutes": 0.6, "doubled": -1.2, "increase": -0.6, "twice": -0.5, "worried": -1.8,
        "churn": -1.8,
        "hidden": -1.0, "extra": -0.5, "mess": -2.0, "outdated": -1.6, "date": 0.0, "justify": 0.5,
    },
    "de": {
        # positive
        "gut": 1.9, "toll": 2.8, "super": 2.5, "hervorragend": 3.0, "ausgezeichnet": 3.0, "genial": 3.0,
        "perfekt": 3.0, "klasse": 2.5, "prima": 2.5, "zufrieden": 2.2, "begeistert": 3.0, "hilfsbereit": 2.0,
        "hilfreich": 2.0, "freundlich": 2.0, "schnell": 1.6, "flott": 1.8, "sofort": 1.3, "einfach": 1.6,
        "reibungslos": 2.0, "intuitiv": 2.0, "übersichtlich": 1.8, "klar": 1.4, "zuverlässig": 2.0, "solide": 1.8,
        "empfehlen": 2.2, "besser": 1.9, "beste": 3.0, "fair": 1.3, "faire": 1.3, "vernünftig": 1.3, "gern": 1.5,
        "gerne": 1.5, "gefällt": 2.0, "gelöst": 1.6, "sparen": 1.5, "danke": 1.9, "praxisnah": 1.3,
        "günstig": 1.2, "günstiger": 1.2, "ordnung": 0.6, "akzeptabel": 0.5, "startklar": 1.2,
        "weiter": 0.3, "minuten": 0.6,
        # negative
        "schlecht": -2.5, "schlechter": -2.1, "furchtbar": -3.0, "schrecklich": -3.0, "katastrophal": -3.0,
        "langsam": -1.9, "ewig": -1.4, "teuer": -1.8, "überteuert": -2.3, "teure": -1.8, "verwirrend": -2.0,
        "umständlich": -2.0, "überladen": -1.6, "uneinheitlich": -1.5, "schwer": -1.2, "schwierig": -1.6,
        "kaputt": -2.3, "fehler": -1.8, "absturz": -2.2, "stürzt": -2.2, "abstürze": -2.2, "ausfall": -2.2,
        "ausfälle": -2.2, "ausgefallen": -1.5, "zeitüberschreitungen": -1.8, "verzögerungen": -1.6,
        "unzuverlässig": -2.2, "fehlt": -1.4, "fehlen": -1.4, "enttäuscht": -2.3, "enttäuschend": -2.3,
        "ärgerlich": -2.0, "nutzlos": -2.6, "gewartet": -1.3, "warten": -1.0, "spät": -1.2, "falsch": -1.8,
        "falscher": -1.8, "gesperrt": -1.2, "problem": -1.3, "probleme": -1.3, "beschwerden": -1.2,
        "abgesagt": -1.2, "veraltet": -1.6, "dünn": -1.0, "tot": -1.0, "toter": -1.0, "bots": -1.0,
        "steigen": -0.8, "verdoppelt": -1.2, "preiserhöhung": -1.2, "doppelt": -0.8, "liegen": -0.6,
        "versteckten": -1.0, "zusätzliche": -0.5, "leider": -1.5, "bricht": -1.2, "abgebucht": -0.4,
        "unerreichbar": -2.0, "erreichbar": 0.8, "lohnt": 1.2, "dauerte": -0.6, "gedauert": -0.6,
        "zusatzmodule": -0.3, "niemand": -1.0, "länger": -0.8,
    },
}  # fmt: skip
POSITIVE_AT, NEGATIVE_AT = 0.05, -0.05  # VADER's thresholds on the compound score


@cache
def _stemmer(lang: str):
    return snowballstemmer.stemmer("german" if lang == "de" else "english")


@lru_cache(maxsize=100_000)  # customers use a few thousand words: most stems come from here
def stem(word: str, lang: str) -> str:
    return _stemmer(lang).stemWord(word)


def words(text: str) -> list[str]:
    """Lower-case words and clause punctuation; "don't" becomes "do not"."""
    text = re.sub(r"n[’']t\b", " not", text.lower())
    return WORD.findall(text)


def guess_language(text: str, hint: str = "") -> str:
    """The response's language when it is known, else the one whose stop words the text uses more."""
    if hint[:2] in STOPWORDS:
        return hint[:2]
    tokens = words(text)
    de = sum(t in STOPWORDS["de"] or t in NEGATORS and not t.isascii() for t in tokens)
    de += sum(any(ch in t for ch in "äöüß") for t in tokens)
    en = sum(t in STOPWORDS["en"] for t in tokens)
    return "de" if de > en else "en"


@dataclass(frozen=True)
class Token:
    word: str
    stem: str
    negated: bool  # within NEGATION_REACH words after a negator, in the same clause


def tokens(text: str, lang: str) -> list[Token]:
    out, since_negator = [], None
    for word in words(text):
        if word in CLAUSE_END:
            since_negator = None
            out.append(Token(word, word, False))
            continue
        negated = since_negator is not None and since_negator < NEGATION_REACH
        out.append(Token(word, stem(word, lang), negated))
        if word in NEGATORS:
            since_negator = 0
        elif since_negator is not None:
            since_negator += 1
    return out


def content_stems(text: str, lang: str) -> list[str]:
    """Stems of the words that carry meaning (no stop words, negators or punctuation)."""
    stop = STOPWORDS[lang]
    return [
        t.stem
        for t in tokens(text, lang)
        if t.word not in CLAUSE_END and t.word not in stop and t.word not in NEGATORS and len(t.word) > 1
    ]


# Sentiment ------------------------------------------------------------------------------------------


# Stems too common to carry a feeling ("help" of "helpful"), looked up as whole words only.
WHOLE_WORD_ONLY = {"help", "like"}
LIKING = {"i", "we", "they", "you", "users", "really", "all", "team"}  # "we like it", not "features like …"
DAMPERS = {"would", "could", "wäre", "hätte", "würde", "könnte", "wish", "wünschen"}  # a wish, not praise
PHRASES = {  # two words worth more than their parts
    ("too", "many"): -1.5, ("too", "much"): -1.5, ("too", "long"): -1.5, ("zu", "viele"): -1.5,
    ("zu", "lange"): -1.5, ("again", "and"): -1.0, ("immer", "wieder"): -1.0, ("no", "one"): -1.0,
}  # fmt: skip


@cache
def _lexicon(lang: str) -> dict[str, float]:
    stems = {stem(word, lang): valence for word, valence in LEXICON[lang].items()}
    return {key: v for key, v in stems.items() if key not in WHOLE_WORD_ONLY} | LEXICON[lang]


def _valence(toks: list[Token], i: int, lexicon: dict[str, float]) -> float:
    tok = toks[i]
    if tok.word == "like" and (i == 0 or toks[i - 1].word not in LIKING):
        return 0.0
    if i > 0 and (toks[i - 1].word, tok.word) in PHRASES:
        return PHRASES[toks[i - 1].word, tok.word]
    return lexicon.get(tok.word) or lexicon.get(tok.stem, 0.0)


@dataclass(frozen=True)
class Sentiment:
    label: str  # "negative" | "neutral" | "positive"
    score: float  # the compound score, −1 … +1

    @property
    def negative(self) -> bool:
        return self.label == "negative"


def sentiment(text: str, lang: str = "") -> Sentiment | None:
    """The text's sentiment, or None when there is no text."""
    if not text or not text.strip():
        return None
    lang = guess_language(text, lang)
    lexicon = _lexicon(lang)
    toks = tokens(text, lang)
    valences: list[float] = []
    contrast_at = None
    for i, tok in enumerate(toks):
        if tok.word in CLAUSE_END:
            continue
        if tok.word in CONTRAST and i > 0:
            contrast_at = len(valences)
        valence = _valence(toks, i, lexicon)
        if tok.word in NEGATORS and not valence:
            valences.append(0.0)
            if lang == "de" and _ends_clause(toks, i):
                _negate_back(valences, toks, i)  # "Lohnt sich nicht": German negates at the clause's end
            continue
        if valence:
            previous = [toks[j].word for j in range(max(0, i - 2), i)]
            boost = sum(INTENSIFIERS.get(w, 0.0) for w in previous)
            valence += math.copysign(boost, valence)
            if tok.negated:
                valence *= -0.74
        valences.append(valence)
    if any(t.word in DAMPERS for t in toks):
        valences = [v * 0.3 if v > 0 else v for v in valences]
    valences += _bare_negations(toks, lexicon)
    if contrast_at is not None:  # what follows "but" counts more than what precedes it
        valences = [v * 0.5 for v in valences[:contrast_at]] + [v * 1.5 for v in valences[contrast_at:]]
    total = sum(valences)
    if text.rstrip().endswith("!") and total:
        total += math.copysign(0.3, total)
    compound = total / math.sqrt(total * total + 15)
    label = "positive" if compound >= POSITIVE_AT else "negative" if compound <= NEGATIVE_AT else "neutral"
    return Sentiment(label, round(compound, 4))


def _ends_clause(toks: list[Token], i: int) -> bool:
    return i + 1 == len(toks) or toks[i + 1].word in CLAUSE_END


def _negate_back(valences: list[float], toks: list[Token], i: int) -> None:
    """Flip the nearest valenced word before a clause-final negator, within the clause."""
    back, j = len(valences) - 2, i - 1
    while back >= 0 and j >= 0 and toks[j].word not in CLAUSE_END and i - j <= NEGATION_REACH + 1:
        if valences[back] and not toks[j].negated:
            valences[back] *= -0.74
            return
        back, j = back - 1, j - 1


def _bare_negations(toks: list[Token], lexicon: dict[str, float]) -> list[float]:
    """A "not" with nothing to turn ("did not know the product") is a complaint of its own."""
    out = []
    for i, tok in enumerate(toks):
        if tok.word not in ("not", "nicht", "never", "nie") or (tok.word in lexicon):
            continue
        reach = [j for j in range(max(0, i - NEGATION_REACH), min(len(toks), i + NEGATION_REACH + 1)) if j != i]
        if not any(_valence(toks, j, lexicon) for j in reach if toks[j].word not in CLAUSE_END):
            out.append(-0.6)
    return out
