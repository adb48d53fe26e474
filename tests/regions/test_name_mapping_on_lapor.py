"""Name patterns against the agency names of the real LAPOR! export (shared data, Kabupaten Bandung).

The hand-written Bandung registry says which functions each agency holds; mapping the raw
*Instansi Terdisposisi* labels by name alone must agree with it, and never contradict it.
"""

from __future__ import annotations

from routing_model.registry.functions import FunctionCatalogue


def test_lapor_labels_map_to_the_registry_functions(lapor_frame, registry):
    catalogue = FunctionCatalogue.load()
    labels = sorted({label.strip() for label in lapor_frame["agency"] if label.strip()})
    exact, contradicting, unmapped = [], [], []
    for label in labels:
        truth = registry.get(registry.resolve(label)).functions
        got = catalogue.match_name(label)
        if set(got) == set(truth):
            exact.append(label)
        elif not got:
            unmapped.append(label)
        elif not set(got) & set(truth):
            contradicting.append((label, got, truth))
    assert not contradicting, contradicting
    assert not unmapped, unmapped
    assert len(exact) >= len(labels) - 1, set(labels) - set(exact)
