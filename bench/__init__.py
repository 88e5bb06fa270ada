"""Benchmarks: ``make bench`` runs every ``bench/<name>.py`` that defines ``main()``.

Each benchmark measures its subject and a baseline in the same run, reports ratios,
and writes ``bench/results/<name>.json``. Nothing here is run by ``make test``.
"""
