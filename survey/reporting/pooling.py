"""Numbers pooled up a report's tree: each agency's row plus every row below it."""

from __future__ import annotations

import numpy as np


def pool_up(order: list[tuple], own: np.ndarray) -> np.ndarray:
    """Rows of `own` (one per node of `order`, (node, depth) in tree order: nodes with `id`
    and `parent_id`) summed over each node's subtree: the deepest level is added to its
    parents first, a level at a time, so the whole tree costs one `numpy.add.at` per level
    however many agencies it has."""
    index = {node.id: i for i, (node, _depth) in enumerate(order)}
    parents = np.array(
        [index.get(node.parent_id, -1) if depth else -1 for node, depth in order], dtype=np.int64
    )
    depths = np.array([depth for _node, depth in order], dtype=np.int64)
    pooled = own.copy()
    for depth in range(int(depths.max(initial=0)), 0, -1):
        at = np.flatnonzero(depths == depth)
        np.add.at(pooled, parents[at], pooled[at])
    return pooled
