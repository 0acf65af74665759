"""ResourceDefinition.replace_on and the graph's replace cascade (pure: no database, no server)."""

from __future__ import annotations

import pytest

from edfi_sync.resources.base import EdFiModel, Reference, ResourceDefinition
from edfi_sync.resources.graph import ResourceGraph


def definition(name, natural_key, upstream=(), references=(), replace_on=()):
    return ResourceDefinition(name=name, model=EdFiModel, extract_sql=f"{name}.sql", natural_key=natural_key,
                              build=lambda row, ctx: [], sis_object_type=name, level="student", upstream=upstream,
                              references=references, replace_on=replace_on)


PARENT = definition("records", ("orgId", "term"), replace_on=("awards.date",))
CHILD = definition("entries", ("code", "recordReference.organizationId", "recordReference.term"), ("records",),
                   (Reference("recordReference", "records", {"organizationId": "orgId"}),))
GRANDCHILD = definition("notes", ("n", "entryReference.code", "entryReference.organizationId", "entryReference.term"),
                        ("entries",), (Reference("entryReference", "entries"),))


@pytest.mark.parametrize("payload, values", [
    ({"awards": [{"date": "2025-05-23"}]}, [["2025-05-23"]]),
    ({"awards": [{"date": "2025-05-23"}, {"date": "2025-01-10"}]}, [["2025-01-10", "2025-05-23"]]),
    ({"awards": []}, None),  # no values: adding or removing them is an ordinary update
    ({}, None),
])
def test_replace_values_read_paths_through_arrays(payload, values):
    assert PARENT.replace_values(payload) == values


def test_replace_cascade_follows_references_embedded_in_the_keys_children_first_to_delete():
    graph = ResourceGraph({d.name: d for d in (PARENT, CHILD, GRANDCHILD)})
    assert graph.replace_cascade("records") == [
        ("records", "entries", {"orgId": "organizationId", "term": "term"}),
        ("entries", "notes", {"code": "code", "organizationId": "organizationId", "term": "term"}),
    ]


def test_a_descendant_whose_key_does_not_embed_the_reference_is_refused():
    loose = definition("loose", ("code",), ("records",), (Reference("recordReference", "records"),))
    with pytest.raises(ValueError, match="loose: its natural key must embed recordReference"):
        ResourceGraph({d.name: d for d in (PARENT, loose)})
