"""The benchmark's ratios of adjacent pairs (bench/run.py): each product run against the
baseline run measured right after it, so that a host's drift between pairs does not pair a
fast minute of one with a slow minute of the other."""

from __future__ import annotations

import statistics

from bench.run import adjacent_ratios


def test_each_pair_gives_its_own_ratios() -> None:
    pairs = [
        ({"rps": 700.0, "cpu_ms": 1.4}, {"rps": 1000.0, "cpu_ms": 0.98}),  # a slow minute
        ({"rps": 900.0, "cpu_ms": 1.1}, {"rps": 1200.0, "cpu_ms": 0.77}),  # a fast one
        ({"rps": 800.0, "cpu_ms": 1.25}, {"rps": 1000.0, "cpu_ms": 1.0}),
    ]
    ratios = adjacent_ratios(pairs)
    assert [round(v, 3) for v in ratios["req/s"]] == [0.7, 0.75, 0.8]
    assert [round(v, 3) for v in ratios["cpu"]] == [0.7, 0.7, 0.8]
    assert round(statistics.median(ratios["req/s"]), 3) == 0.75
    # The best run of each would pair the fast baseline with the fast product: 900 / 1200.
    assert max(p["rps"] for p, _ in pairs) / max(b["rps"] for _, b in pairs) == 0.75


def test_a_pair_missing_a_figure_is_left_out_of_it() -> None:
    pairs = [
        ({"rps": 500.0, "cpu_ms": None}, {"rps": 1000.0, "cpu_ms": 0.5}),  # no CPU figure read
        ({"rps": 0.0, "cpu_ms": 2.0}, {"rps": 0.0, "cpu_ms": 1.0}),  # nothing served
    ]
    ratios = adjacent_ratios(pairs)
    assert ratios["req/s"] == [0.5]
    assert ratios["cpu"] == [0.5]
    # A product that served nothing beside a baseline that did: a ratio of 0, not left out.
    assert adjacent_ratios([({"rps": 0.0}, {"rps": 900.0})]) == {"req/s": [0.0], "cpu": []}
