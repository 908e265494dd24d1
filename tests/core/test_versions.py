"""PEP 440 range checks used for ``Integration.supports`` (stdlib only, no ``packaging``)."""

from __future__ import annotations

import pytest

from autotrack.core.versions import installed_version, parse_version, version_matches


@pytest.mark.parametrize("version,spec,expected", [
    ("1.4.2", ">=1.3,<2", True),
    ("2.0.0", ">=1.3,<2", False),
    ("1.3", ">=1.3.0", True),
    ("2.0rc1", "<2", False),  # a pre-release of the excluded bound is excluded too
    ("2.0rc1", "<2.0rc2", True),
    ("1.9.dev3", ">=1.9", False),
    ("1.9.post1", ">1.9", True),
    ("2.1.5", "~=2.1", True),
    ("3.0", "~=2.1", False),
    ("1.4.7", "==1.4.*", True),
    ("1.5.0", "!=1.5.0", False),
    ("2.13.0+cpu", ">=2.2", True),
    ("0.24.2", "", True),
])
def test_version_matches(version, spec, expected):
    assert version_matches(version, spec) is expected


def test_ordering_of_release_kinds():
    order = ["1.0.dev0", "1.0a1", "1.0b2", "1.0rc1", "1.0", "1.0.post1", "1.0.1"]
    assert sorted(order, key=parse_version) == order


def test_bad_specifier_names_the_field():
    with pytest.raises(ValueError, match=r"supports='>>1': clause '>>1' is not a PEP 440 specifier"):
        version_matches("1.0", ">>1")
    with pytest.raises(ValueError, match="not a PEP 440 version"):
        parse_version("banana")


def test_installed_version_reads_metadata_without_importing():
    import sys

    assert installed_version("wrapt") is not None
    assert installed_version("no-such-distribution-xyz") is None
    assert "no_such_distribution_xyz" not in sys.modules
