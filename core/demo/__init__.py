"""The ketamine demo review (issue 9): its search results, the answer key, and the commands that load them.

`trials` holds the bibliographic facts of the three included trials; `build_sources` writes `sources/` (five
database and register exports, `key.json` and a README) from those facts and from records it makes up.
"""
