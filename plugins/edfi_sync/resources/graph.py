"""The dependency graph of the resource definitions, and everything derived from it.

POSTs run parents first; DELETEs run children first. A resource with ``updates_after`` gets a
separate update step once those resources are posted (students after their SSAs).
"""

from __future__ import annotations

from dataclasses import dataclass
from graphlib import TopologicalSorter
from typing import Iterable, Literal, Mapping

from .base import ResourceDefinition

Phase = Literal["post", "update", "delete"]


@dataclass(frozen=True)
class Step:
    phase: Phase
    resource: str

    @property
    def task_id(self) -> str:
        return f"{self.phase}.{self.resource}"


@dataclass(frozen=True)
class Join:
    """A task that only orders others and does no Ed-Fi work."""

    task_id: str


# SPEC §6.1: between the post/update groups and the delete group, so the graph has one edge per
# last post and one per first delete instead of every pair of them.
POSTS_DONE = Join("posts_done")


class ResourceGraph:
    def __init__(self, definitions: Mapping[str, ResourceDefinition]):
        self.definitions = dict(definitions)
        for definition in self.definitions.values():
            unknown = set(definition.upstream) | set(definition.updates_after)
            unknown -= set(self.definitions)
            if unknown:
                raise ValueError(f"{definition.name}: unknown upstream resources {sorted(unknown)}")
        self._post_order = tuple(TopologicalSorter(
            {name: sorted(d.upstream) for name, d in sorted(self.definitions.items())}).static_order())
        for definition in self.definitions.values():
            if definition.replace_on:
                self.replace_cascade(definition.name)  # fails early on a descendant it cannot follow

    def post_order(self, selected: Iterable[str] | None = None) -> list[str]:
        chosen = self._select(selected)
        return [name for name in self._post_order if name in chosen]

    def delete_order(self, selected: Iterable[str] | None = None) -> list[str]:
        return list(reversed(self.post_order(selected)))

    def children(self, resource: str) -> list[str]:
        return [name for name in self._post_order if resource in self.definitions[name].upstream]

    def descendants(self, resource: str) -> list[str]:
        """Every resource whose records embed (directly or not) a reference to ``resource``."""
        seen: list[str] = []
        frontier = [resource]
        while frontier:
            for child in self.children(frontier.pop()):
                if child not in seen:
                    seen.append(child)
                    frontier.append(child)
        return [name for name in self._post_order if name in seen]

    def referencing(self, resource: str) -> list[str]:
        """Every resource whose records reference ``resource``'s, directly or through another one:
        where a new or changed key of ``resource`` cascades (a retry follows these)."""
        seen = {resource}
        for name in self._post_order:
            if any(ref.resource in seen for ref in self.definitions[name].references):
                seen.add(name)
        return [name for name in self._post_order if name in seen and name != resource]

    def selection(self, selected: Iterable[str] | None, *, resync: bool = False,
                  records: bool = False) -> list[str]:
        """The resources a run covers: a resync also runs every descendant of what it names, so a
        re-keyed parent (a program whose mapping changed) reaches every record that references it;
        a run of selected records also runs the resources their keys cascade to."""
        chosen = self._select(selected)
        if resync and selected:
            chosen |= {child for name in chosen for child in self.descendants(name)}
        if records:
            chosen |= {child for name in chosen for child in self.referencing(name)}
        return [name for name in self._post_order if name in chosen]

    def replace_cascade(self, resource: str) -> list[tuple[str, str, dict[str, str]]]:
        """(parent, child, parent key name -> child key name) for every reference by which a
        descendant's natural key embeds ``resource``'s, directly or through another descendant, in
        post order: what a DELETE/POST of ``resource``'s record must delete first."""
        followed, cascade = {resource}, []
        for child in self.descendants(resource):
            definition = self.definitions[child]
            for ref in definition.references:
                if ref.resource not in followed:
                    continue
                to_child = {parent: name for name, parent in ref.rename.items()}
                renamed = {parent: to_child.get(parent, parent) for parent in self.definitions[ref.resource].key_names}
                missing = [name for name in renamed.values() if f"{ref.field}.{name}" not in definition.natural_key]
                if missing:
                    raise ValueError(f"{child}: its natural key must embed {ref.field} to follow a DELETE/POST "
                                     f"of {ref.resource} (missing {missing})")
                cascade.append((ref.resource, child, renamed))
                followed.add(child)
        return cascade

    def edges(self) -> list[tuple[Step | Join, Step | Join]]:
        """Task edges: post phase parents -> children, update steps after what they wait for,
        ``posts_done``, then the delete phase children -> parents."""
        edges: list[tuple[Step | Join, Step | Join]] = []
        names = self._post_order
        for name in names:
            definition = self.definitions[name]
            edges += [(Step("post", up), Step("post", name)) for up in definition.upstream]
            if definition.updates_after:
                edges.append((Step("post", name), Step("update", name)))
                edges += [(Step("post", after), Step("update", name)) for after in definition.updates_after]
        # Deletes start once every post and update has run: a key change posts the new record first.
        last_posts = [Step("update", n) if self.definitions[n].updates_after else Step("post", n)
                      for n in names if not self.children(n) or self.definitions[n].updates_after]
        for name in names:
            for up in self.definitions[name].upstream:
                edges.append((Step("delete", name), Step("delete", up)))
        roots = [n for n in names if not self.children(n)]
        edges += [(last, POSTS_DONE) for last in last_posts]
        edges += [(POSTS_DONE, Step("delete", leaf)) for leaf in roots]
        # A resource's delete also waits directly for its own post (or update): when a rerun clears
        # only that resource's tasks, the delete must not run on the stage its post is replacing.
        for name in names:
            own = Step("update", name) if self.definitions[name].updates_after else Step("post", name)
            if (own, Step("delete", name)) not in edges:
                edges.append((own, Step("delete", name)))
        # A resource that is never deleted has no delete task: bridge its place in the chain.
        for name in names:
            if not self.definitions[name].deletable:
                gone = Step("delete", name)
                before = [a for a, b in edges if b == gone]
                after = [b for a, b in edges if a == gone]
                edges = [e for e in edges if gone not in e]
                edges += [(a, b) for a in before for b in after if (a, b) not in edges]
        return edges

    def steps(self, selected: Iterable[str] | None = None, *, resync: bool = False,
              records: bool = False) -> list[Step]:
        """A sequential plan with the same ordering as the task edges (what the CLI runs)."""
        chosen = self.selection(selected, resync=resync, records=records)
        plan: list[Step] = []
        pending_updates = [n for n in chosen if self.definitions[n].updates_after]
        for name in chosen:
            plan.append(Step("post", name))
            for waiting in list(pending_updates):
                if set(self.definitions[waiting].updates_after) & set(chosen) <= set(
                        s.resource for s in plan if s.phase == "post"):
                    plan.append(Step("update", waiting))
                    pending_updates.remove(waiting)
        plan += [Step("delete", n) for n in reversed(chosen) if self.definitions[n].deletable]
        return plan

    def _select(self, selected: Iterable[str] | None) -> set[str]:
        if not selected:
            return set(self.definitions)
        chosen = set(selected)
        unknown = chosen - set(self.definitions)
        if unknown:
            raise ValueError(f"unknown resources: {', '.join(sorted(unknown))} "
                             f"(known: {', '.join(self._post_order)})")
        return chosen

    def tasks(self) -> list[Step]:
        """One task per step: a post per resource, an update where ``updates_after``, a delete
        where ``deletable`` (the nodes of :meth:`edges`)."""
        names = self._post_order
        return ([Step("post", n) for n in names]
                + [Step("update", n) for n in names if self.definitions[n].updates_after]
                + [Step("delete", n) for n in reversed(names) if self.definitions[n].deletable])
