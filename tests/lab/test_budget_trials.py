"""NABLAB_MAX_TRIALS caps a sweep for smoke runs: a grid's first points, a random or TPE budget."""

from nablab.lab.sweep.spec import load_spec


def test_the_trials_cap_takes_a_grids_first_points_and_lowers_a_budget(monkeypatch):
    full = load_spec("hlcv-grid")
    assert full.budget() == 81
    monkeypatch.setenv("NABLAB_MAX_TRIALS", "2")
    capped = load_spec("hlcv-grid")
    assert capped.budget() == 2 and capped.grid() == full.grid()[:2]
    assert load_spec("hlcv-grid", sampler="tpe", trials=81).budget() == 2
    assert load_spec("hlcv-grid", sampler="tpe", trials=1).budget() == 1
