#!/usr/bin/env python3
"""The peer of jobmatch in `cargo xtask bench recommend`: posts scored the way the original
recommender (`jobsearch/match.py`) did it, with pandas and scikit-learn.

It reads the score set `mcfbench prepare-score` wrote (posts.json, library.json) and does the
work jobmatch does, the pandas way:

- titles in a DataFrame column, cleaned with `Series.str` regex replacements in the original's
  order (letters only, lowercase, its entity debris, NLTK's English stop words except the keep
  tags, junk tags out -> clean title, rank tags out -> deranked title). As in jobmatch, tags
  are matched literally (escaped) and a tag word with symbols (`c++`, `.net`) is kept whole
  where the text holds it as a whole word: the original did not, and the two sides must agree;
- title bigrams counted by scikit-learn's `CountVectorizer(ngram_range=(2, 2))` fitted on the
  batch (without the original's `min_df`, as jobmatch), the count matrix times each track's
  bigram scores;
- descriptions (with the skills) cleaned the same way, each keyword of the tracks' groups looked
  up with `Series.str.contains` (each keyword counts once), summed per track. `--keywords`
  says how: `regex` (the default), one whole-word regular expression per keyword, the naive
  pandas way; or `substring`, a plain substring search for ` keyword ` in the space-padded
  cleaned text, the same answer found the fastest way pandas offers (the benchmark runs both);
- seniority, salary and recency fits and the total with numpy, the formulas of jobmatch's
  `score` module.

    match_python.py --set DIR [--keywords regex|substring] [--seconds 1.0] [--runs 5]
    match_python.py --set DIR [--keywords regex|substring] --check   # every (post, track) score

The timing protocol is mcfbench's: one untimed pass (check and warm-up), then per run passes
over the whole set (one DataFrame, scored as one batch) until the time budget has elapsed.
"""

import argparse
import json
import re
import sys
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.feature_extraction.text import CountVectorizer

TODAY = "2025-05-19"

# NLTK's English stop-word list (nltk.corpus.stopwords.words("english")), embedded as jobmatch
# embeds it: nothing is downloaded.
STOP_WORDS = [
    "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "you're", "you've", "you'll",
    "you'd", "your", "yours", "yourself", "yourselves", "he", "him", "his", "himself", "she", "she's", "her",
    "hers", "herself", "it", "it's", "its", "itself", "they", "them", "their", "theirs", "themselves",
    "what", "which", "who", "whom", "this", "that", "that'll", "these", "those", "am", "is", "are", "was",
    "were", "be", "been", "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an",
    "the", "and", "but", "if", "or", "because", "as", "until", "while", "of", "at", "by", "for", "with",
    "about", "against", "between", "into", "through", "during", "before", "after", "above", "below", "to",
    "from", "up", "down", "in", "out", "on", "off", "over", "under", "again", "further", "then", "once",
    "here", "there", "when", "where", "why", "how", "all", "any", "both", "each", "few", "more", "most",
    "other", "some", "such", "no", "nor", "not", "only", "own", "same", "so", "than", "too", "very", "s",
    "t", "can", "will", "just", "don", "don't", "should", "should've", "now", "d", "ll", "m", "o", "re",
    "ve", "y", "ain", "aren", "aren't", "couldn", "couldn't", "didn", "didn't", "doesn", "doesn't", "hadn",
    "hadn't", "hasn", "hasn't", "haven", "haven't", "isn", "isn't", "ma", "mightn", "mightn't", "mustn",
    "mustn't", "needn", "needn't", "shan", "shan't", "shouldn", "shouldn't", "wasn", "wasn't", "weren",
    "weren't", "won", "won't", "wouldn", "wouldn't",
]
assert len(STOP_WORDS) == 179

DEFAULTS = {
    "keyword_weight": 1.0,
    "keyword_saturation": 4.0,
    "keyword_rescue": 0.75,
    "seniority_span": 1.5,
    "salary_tolerance": 0.5,
    "recency_floor": 0.5,
    "match_score_min": 0.5,
    "age_weeks": 4,
}

LETTER = r"[^\W\d_]"  # a Unicode letter
WORD_CHAR = r"[^\W_]"  # a letter or digit


def is_symbol_word(word):
    return bool(word) and not all(ch.isalpha() for ch in word)


def phrase_pattern(phrases):
    """Whole space-separated phrases of cleaned text, longest (in words) first."""
    ordered = sorted(set(phrases), key=lambda p: (-len(p.split()), -len(p), p))
    if not ordered:
        return None
    return re.compile(r"(?<!\S)(?:" + "|".join(re.escape(p) for p in ordered) + r")(?!\S)")


class Library:
    """The library, compiled once into regular expressions and lookup tables."""

    def __init__(self, lib):
        tags = [t["tag"] for t in lib.get("title_tags", [])]
        tags += [t["tag"] for t in lib.get("rank_tags", [])]
        tags += [t["tag"] for t in lib.get("junk_tags", [])]
        tags += [t["tag"] for t in lib.get("keep_tags", [])]
        tags += [t["tag"] for t in lib.get("keyword_tags", [])]
        tags += [t["seniority"] for t in lib.get("tracks", []) if isinstance(t.get("seniority"), str)]
        words = {w.lower().replace("&amp;", "&") for t in tags for w in t.split()}
        symbols = sorted((w for w in words if is_symbol_word(w)), key=lambda w: (-len(w), w))
        alternatives = []
        for s in symbols:
            first, last = s[0], s[-1]
            before = rf"(?<!{WORD_CHAR})" + ("" if first.isalnum() else rf"(?<!{re.escape(first)})")
            after = rf"(?!{WORD_CHAR})" + ("" if last.isalnum() else rf"(?!{re.escape(last)})")
            alternatives.append(before + re.escape(s) + after)
        symbol = "|".join(alternatives) if alternatives else r"(?!x)x"
        self.token_re = re.compile(
            rf"(?P<sym>{symbol})|(?P<amp>(?<!{WORD_CHAR}){LETTER}&{LETTER}(?!{WORD_CHAR}))|(?P<word>{LETTER}+)|(?P<and>&)"
        )
        keep = set()
        for t in lib.get("keep_tags", []):
            tokens = self.tokens(t["tag"].lower())
            if len(tokens) == 1:
                keep.add(tokens[0])
        self.stop = set(STOP_WORDS) - keep
        self.stop_re = phrase_pattern(self.stop)

        self.junk_re = phrase_pattern(p for p in (self.phrase(t["tag"]) for t in lib.get("junk_tags", [])) if p)
        self.rank_weight = {}
        for t in lib.get("rank_tags", []):
            p = self.phrase(t["tag"])
            if p:
                self.rank_weight.setdefault(p, t["weight"])
        self.rank_re = phrase_pattern(self.rank_weight)

        self.config = dict(DEFAULTS)
        for row in lib.get("config", []):
            if row["group"].strip() == "match":
                self.config[row["parameter"].strip()] = float(row["value"])

        self.tracks = []
        for t in lib.get("tracks", []):
            seniority = t.get("seniority")
            if isinstance(seniority, str):
                seniority = self.rank_weight.get(self.phrase(seniority), 0.0)
            self.tracks.append(
                {
                    "id": t["id"],
                    "groups": t.get("keyword_groups", []),
                    "seniority": float(seniority or 0.0),
                    "salary_target": t.get("salary_target"),
                    "age_weeks": t.get("age_weeks", self.config["age_weeks"]),
                }
            )
        ids = [t["id"] for t in self.tracks]

        # Title bigram -> score per track: rows for every track fill first, a track's own row wins.
        self.title_scores = {}
        own = set()
        for specific in (False, True):
            for row in lib.get("title_tags", []):
                if (row.get("track") is not None) != specific:
                    continue
                p = self.phrase(row["tag"])
                scores = self.title_scores.setdefault(p, [None] * len(ids))
                if not specific:
                    scores[:] = [row["score"] if s is None else s for s in scores]
                elif row["track"] in ids and (p, row["track"]) not in own:
                    own.add((p, row["track"]))
                    scores[ids.index(row["track"])] = row["score"]

        # Keyword phrase -> score per track (the first of the track's groups that holds it).
        self.keyword_scores = {}
        for i, track in enumerate(self.tracks):
            for group in track["groups"]:
                for row in lib.get("keyword_tags", []):
                    if row["group"] != group:
                        continue
                    p = self.phrase(row["tag"])
                    scores = self.keyword_scores.setdefault(p, [None] * len(ids))
                    if scores[i] is None:
                        scores[i] = row["score"]
        self.keyword_patterns = {p: re.compile(r"(?<!\S)" + re.escape(p) + r"(?!\S)") for p in self.keyword_scores}

    def tokens(self, lowered):
        out = []
        for m in self.token_re.finditer(lowered):
            kind = m.lastgroup
            text = m.group()
            out.append(text[0] + text[2] if kind == "amp" else "and" if kind == "and" else text)
        return out

    def phrase(self, tag):
        """A tag as cleaned text: its tokens without stop words."""
        stop = getattr(self, "stop", set(STOP_WORDS))
        return " ".join(t for t in self.tokens(tag.lower().replace("&amp;", "&")) if t not in stop)

    # Series -> Series steps, the pandas way.
    def clean(self, texts):
        lowered = texts.fillna("").str.lower().str.replace("&amp;", "&", regex=False)
        tokens = lowered.map(lambda s: " ".join(self.tokens(s)))
        return squash(tokens.str.replace(self.stop_re, " ", regex=True))


def squash(s):
    return s.str.replace(r"\s+", " ", regex=True).str.strip()


def remove_all(texts, pattern, found=None):
    """Removes every phrase of `pattern`, again until none is left (jobmatch's fixpoint)."""
    if pattern is None:
        return texts
    while True:
        if found is not None:
            for i, hits in texts.str.findall(pattern).items():
                for h in hits:
                    if h not in found[i]:
                        found[i].append(h)
        removed = squash(texts.str.replace(pattern, " ", regex=True))
        if (removed == texts).all():
            return removed
        texts = removed


KEYWORDS = ["regex", "substring"]


def keywords_present(text, lib, how):
    """Keyword -> boolean array: does the cleaned text hold it as a whole word."""
    if how == "substring":
        padded = " " + text + " "
        return {p: padded.str.contains(" " + p + " ", regex=False).to_numpy() for p in lib.keyword_patterns}
    return {p: text.str.contains(rx, regex=True).to_numpy() for p, rx in lib.keyword_patterns.items()}


def score(df, lib, today, how="regex"):
    cfg = lib.config
    n = len(df)
    titles = lib.clean(df["title"])
    clean = remove_all(titles, lib.junk_re)
    ranks = [[] for _ in range(n)]
    deranked = remove_all(clean, lib.rank_re, ranks)
    rank = np.array([sum(lib.rank_weight[r] for r in found) for found in ranks])

    # Title bigrams: CountVectorizer over the deranked titles of the batch.
    vectorizer = CountVectorizer(ngram_range=(2, 2), tokenizer=str.split, token_pattern=None, lowercase=False)
    try:
        counts = vectorizer.fit_transform(deranked)
        vocabulary = vectorizer.vocabulary_
    except ValueError:  # no title of the batch has two words
        counts, vocabulary = None, {}

    text = df["description"].fillna("") + df["skills"].map(lambda s: "".join("\n" + x for x in s))
    text = lib.clean(text)
    present = keywords_present(text, lib, how)

    top = df["salary_max"].where(df["salary_max"].notna() & (df["salary_max"] > 0), df["salary_min"])
    top = top.where(top > 0).astype(float)
    kind = df["salary_type"].fillna("").str.strip().str.lower()
    monthly = kind.isin(["", "monthly", "month"])
    annual = kind.isin(["annually", "annual", "yearly", "year"])
    top = top.where(monthly, top / 12.0).where(monthly | annual)

    posted = pd.to_datetime(df["posted_date"], format="%Y-%m-%d", errors="coerce")
    monday = today - pd.Timedelta(days=today.weekday())
    posted_monday = posted - pd.to_timedelta(posted.dt.day_of_week, unit="D")
    weeks = ((monday - posted_monday).dt.days // 7).to_numpy(dtype=float)

    out = {}
    for i, track in enumerate(lib.tracks):
        weights = np.zeros(len(vocabulary))
        for bigram, column in vocabulary.items():
            s = lib.title_scores.get(bigram, [None] * len(lib.tracks))[i]
            weights[column] = s or 0.0
        title_score = counts @ weights if counts is not None else np.zeros(n)

        raw = np.zeros(n)
        for p, mask in present.items():
            s = lib.keyword_scores[p][i]
            if s:
                raw += s * mask
        keyword_score = np.clip(raw / cfg["keyword_saturation"], -1.0, 1.0)

        seniority_fit = np.maximum(0.0, 1.0 - np.abs(rank - track["seniority"]) / cfg["seniority_span"])

        target = track["salary_target"]
        if target is None:
            salary_fit = np.ones(n)
        else:
            fit = np.maximum(0.0, 1.0 - (target - top) / (target * cfg["salary_tolerance"]))
            salary_fit = np.where(top.isna(), 1.0, np.where(top >= target, 1.0, fit))

        age = float(track["age_weeks"])
        w = np.maximum(weeks, 0.0)
        if age == 0:
            recency = np.where(w == 0, 1.0, cfg["recency_floor"])
        else:
            recency = 1.0 - (1.0 - cfg["recency_floor"]) * np.minimum(w, age) / age
        recency = np.where(np.isnan(weeks), 1.0, recency)

        rescued = (title_score == 0) & (keyword_score > 0) & (keyword_score >= cfg["keyword_rescue"])
        relevance = title_score + cfg["keyword_weight"] * keyword_score
        matched = ((title_score > 0) | rescued) & (relevance > 0)
        total = np.where(matched, relevance * seniority_fit * salary_fit * recency, 0.0)
        out[track["id"]] = {
            "title_score": title_score,
            "keyword_score": keyword_score,
            "seniority_fit": seniority_fit,
            "salary_fit": salary_fit,
            "recency": recency,
            "total": total,
        }
    return out


def load(folder):
    with open(f"{folder}/posts.json") as f:
        posts = json.load(f)
    with open(f"{folder}/library.json") as f:
        library = json.load(f)
    return posts, library


def frame(posts):
    df = pd.DataFrame(posts)
    for column in ("salary_min", "salary_max"):
        df[column] = pd.to_numeric(df[column], errors="coerce")
    return df


def throughput(posts, library, budget, runs, how):
    today = pd.Timestamp(TODAY)
    lib = Library(library)
    df = frame(posts)
    score(df, lib, today, how)
    report = {
        "implementation": f"Python {sys.version.split()[0]}, pandas {pd.__version__} + scikit-learn {sklearn.__version__} ({how} keywords)",
        "posts": len(df),
        "tracks": [t["id"] for t in lib.tracks],
        "runs": [],
    }
    for _ in range(runs):
        started = time.perf_counter()
        scored = 0
        while True:
            score(df, lib, today, how)
            scored += len(df)
            if time.perf_counter() - started >= budget:
                break
        report["runs"].append({"docs": scored, "seconds": time.perf_counter() - started})
    return report


def main():
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("--set", required=True, help="the folder `mcfbench prepare-score` wrote")
    args.add_argument("--seconds", type=float, default=1.0, help="time budget per run")
    args.add_argument("--runs", type=int, default=5)
    args.add_argument("--check", action="store_true", help="print every (post, track) score")
    args.add_argument("--keywords", choices=KEYWORDS, default="regex", help="how keywords are looked up")
    opts = args.parse_args()
    posts, library = load(opts.set)
    if opts.check:
        lib = Library(library)
        scores = score(frame(posts), lib, pd.Timestamp(TODAY), opts.keywords)
        for row, post in enumerate(posts):
            for track in lib.tracks:
                s = scores[track["id"]]
                fields = {k: float(v[row]) for k, v in s.items()}
                print(json.dumps({"uuid": post["uuid"], "track": track["id"], **fields}))
    else:
        print(json.dumps(throughput(posts, library, opts.seconds, opts.runs, opts.keywords)))


if __name__ == "__main__":
    main()
