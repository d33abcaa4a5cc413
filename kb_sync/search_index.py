"""Full-text search over the articles, with French normalisation, on SQLite or PostgreSQL.

SQLite: an FTS5 table of Snowball-French stems without accents, ranked by bm25.
PostgreSQL: a weighted `tsvector` built with the `french` configuration on
accent-free text, ranked by ts_rank. Both weigh title > keywords > body.
The index is rebuilt by the sync, in the sync's transaction.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache

import snowballstemmer
from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from kb_sync.french import strip_accents

# Words patients abbreviate; expanded before stemming.
ABBREVIATIONS = {
    "rdv": "rendez vous",
    "cb": "carte bancaire",
    "mutu": "mutuelle",
    "secu": "securite sociale",
    "ordo": "ordonnance",
    "ope": "operation",
    "op": "operation",
    "labo": "laboratoire",
    "radio": "radiologie",
    "exam": "examen",
    "exams": "examens",
    "certif": "certificat",
    "cr": "compte rendu",
    "doc": "document",
    "docs": "documents",
    "tel": "telephone",
    "num": "numero",
    "hosto": "hopital",
}

# Words that say nothing about the subject (French stop words and question words).
STOP_WORDS = set(
    """
    a au aux avec ce ces c cela ca d dans de des du elle en et eux il ils je j la le les leur lui ma mais me m meme mes moi
    mon ne n nos notre nous on ou par pas pour qu que qui sa se s ses son sur ta te t tes toi ton tu un une vos votre vous y
    est suis es sont etre ai as avons avez ont avoir fait faire faut peux peut pouvez veux veut voudrais voulais
    comment quand quel quelle quels quelles combien pourquoi ou est-ce quoi si bonjour svp stp merci euh bah ben alors donc
    moi mon ma mes il y a bien tres plus moins aussi encore deja tout tous toute toutes c est ca
    """.split()
)


@lru_cache(maxsize=1)
def _stemmer():
    return snowballstemmer.stemmer("french")


def words(value: str) -> list[str]:
    """Lowercase content words of `value`, abbreviations expanded, stop words dropped.

    A hyphenated word counts split and joined: "pré-admission" matches "préadmission".
    """
    result = []
    for token in re.findall(r"[^\W_]+(?:-[^\W_]+)*", value.lower()):
        parts = token.split("-")
        for word in parts + (["".join(parts)] if len(parts) > 1 else []):
            for part in ABBREVIATIONS.get(strip_accents(word), word).split():
                if len(part) > 1 and strip_accents(part) not in STOP_WORDS:
                    result.append(part)
    return result


def stems(value: str) -> list[str]:
    """Snowball-French stems without accents: 'Résultats' and 'resultat' both give 'resultat'."""
    return [strip_accents(stem) for stem in _stemmer().stemWords(words(value))]


@dataclass(frozen=True)
class SearchHit:
    slug: str
    title: str
    score: float
    matched: int = 0  # how many distinct terms of the question the article holds


def _with_matched_terms(session: Session, query: str, hits: list[SearchHit]) -> list[SearchHit]:
    """Counts, the same way on both engines, the question's terms each hit holds."""
    if not hits:
        return hits
    terms = set(stems(query))
    rows = session.execute(
        text("SELECT slug, title, keywords, body FROM article WHERE slug IN :slugs").bindparams(bindparam("slugs", expanding=True)),
        {"slugs": [hit.slug for hit in hits]},
    )
    held = {slug: set(stems(f"{title} {' '.join(json.loads(keywords) if isinstance(keywords, str) else keywords)} {body}")) for slug, title, keywords, body in rows}
    return [SearchHit(h.slug, h.title, h.score, len(terms & held.get(h.slug, set()))) for h in hits]


def rebuild(session: Session, articles: list[tuple[str, str, list[str], str]]) -> None:
    """Index (slug, title, keywords, body) for every article, replacing the previous index."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "UPDATE article SET search_vector = "
                "setweight(to_tsvector('french', :title), 'A') || "
                "setweight(to_tsvector('french', :keywords), 'B') || "
                "setweight(to_tsvector('french', :body), 'C') WHERE slug = :slug"
            ),
            [
                {"slug": slug, "title": _pg_text(title), "keywords": _pg_text(" ".join(keywords)), "body": _pg_text(body)}
                for slug, title, keywords, body in articles
            ],
        )
        return
    session.execute(text("DELETE FROM article_search"))
    if articles:
        session.execute(
            text("INSERT INTO article_search (slug, title, keywords, body) VALUES (:slug, :title, :keywords, :body)"),
            [
                {"slug": slug, "title": " ".join(stems(title)), "keywords": " ".join(stems(" ".join(keywords))), "body": " ".join(stems(body))}
                for slug, title, keywords, body in articles
            ],
        )


def search(session: Session, query: str, limit: int = 3) -> list[SearchHit]:
    """The best `limit` articles for a French question, best first; [] when nothing matches."""
    if session.get_bind().dialect.name == "postgresql":
        return _with_matched_terms(session, query, _search_postgresql(session, query, limit))
    return _with_matched_terms(session, query, _search_sqlite(session, query, limit))


def _search_sqlite(session: Session, query: str, limit: int) -> list[SearchHit]:
    terms = sorted(set(stems(query)))
    if not terms:
        return []
    rows = session.execute(
        text(
            "SELECT s.slug, a.title, -bm25(article_search, 0.0, 5.0, 3.0, 1.0) AS score "
            "FROM article_search s JOIN article a ON a.slug = s.slug "
            "WHERE article_search MATCH :q ORDER BY score DESC, s.slug LIMIT :limit"
        ),
        {"q": " OR ".join(f'"{t}"' for t in terms), "limit": limit},
    )
    return [SearchHit(slug, title, float(score)) for slug, title, score in rows]


def _pg_text(value: str) -> str:
    """What PostgreSQL's `french` configuration stems: our words, without accents."""
    return strip_accents(" ".join(words(value)))


def _search_postgresql(session: Session, query: str, limit: int) -> list[SearchHit]:
    """ts_rank of each query word, weighed by its rarity (IDF, from ts_stat), summed as bm25 does."""
    lexemes = session.execute(
        text(
            "WITH q AS (SELECT DISTINCT lexeme FROM unnest(to_tsvector('french', :query))), "
            "stats AS (SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM article')) "
            "SELECT q.lexeme, stats.ndoc, (SELECT count(*) FROM article) "
            "FROM q JOIN stats ON stats.word = q.lexeme ORDER BY q.lexeme"
        ),
        {"query": _pg_text(query)},
    ).all()
    if not lexemes:
        return []
    params: dict[str, object] = {"any": " | ".join(f"'{lexeme}'" for lexeme, *_ in lexemes), "limit": limit}
    ranks = []
    for i, (lexeme, ndoc, total) in enumerate(lexemes):
        params[f"t{i}"] = f"'{lexeme}'"
        params[f"w{i}"] = math.log(1 + (total - ndoc + 0.5) / (ndoc + 0.5))
        ranks.append(f":w{i} * ts_rank(search_vector, to_tsquery('simple', :t{i}))")
    rows = session.execute(
        text(
            f"SELECT slug, title, {' + '.join(ranks)} AS score FROM article "
            "WHERE search_vector @@ to_tsquery('simple', :any) ORDER BY score DESC, slug LIMIT :limit"
        ),
        params,
    )
    return [SearchHit(slug, title, float(score)) for slug, title, score in rows]
