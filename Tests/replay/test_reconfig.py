"""Reconfiguration with the hook: config-reload x3 and SIGHUP x3 each unload
and reload the hook; the same replies must come back and Kea must hold no
more descriptors or threads than after its first start."""

from __future__ import annotations

import pytest

import lab
import make_fixtures as mf
from conftest import reload_cycle


@pytest.mark.parametrize("family", [4, 6])
def test_reload_keeps_serving_without_leaks(family, hook, suite, kea_factory, tmp_path):
    store = suite.write_store(tmp_path)
    net, kea = kea_factory(family, suite.body(family, hook, store))
    fixtures = [fx for fx in mf.FIXTURES.values() if fx.family == family]
    uri_code, cert_code = lab.DEFAULT_CODES[family]

    def snapshot():
        """Check every fixture's reply; return its LwM2M values for comparison."""
        replies = net.exchange([fx.frame() for fx in fixtures])
        values = {}
        for fx in fixtures:
            _, reply = suite.check(fx, replies)
            values[fx.name] = (reply.value(uri_code), reply.value(cert_code))
        assert any(uri for uri, _ in values.values()), "no LwM2M option served at all"
        return values

    reload_cycle(kea, snapshot, hook=hook)
    assert f"HOOKS_LIBRARY_LOADED hooks library {hook}" in kea.log()
