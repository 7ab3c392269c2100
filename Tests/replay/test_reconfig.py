"""Reconfiguration with the hook: config-reload x3 and SIGHUP x3 each unload
and reload the hook; the same replies must come back and Kea must hold no
more descriptors or threads than after its first start."""

from __future__ import annotations

import pytest

from conftest import reload_cycle, snapshot_of


@pytest.mark.parametrize("family", [4, 6])
def test_reload_keeps_serving_without_leaks(family, hook, suite, kea_factory, tmp_path):
    store = suite.write_store(tmp_path)
    net, kea = kea_factory(family, suite.body(family, hook, store))
    reload_cycle(kea, snapshot_of(net, suite, family), hook=hook)
    assert f"HOOKS_LIBRARY_LOADED hooks library {hook}" in kea.log()
