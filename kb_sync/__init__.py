"""Knowledge base: its SQL schema and the sync from the editors' sources.

Flow: editors' source files -> `sources` (read, with line numbers) ->
`content` (validated models) -> `writer` (one transaction) -> SQL.
This package knows nothing of Rasa.
"""
