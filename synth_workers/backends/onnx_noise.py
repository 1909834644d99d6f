"""Seedable noise for ONNX models that draw it with RandomNormalLike (VITS/Piper do, twice).

ONNX Runtime seeds such a node once per session and its generator advances with every run, so
the same request gives different audio each time (the reference notes saw 30976 vs 31232
samples) and there is no seed input. We rewrite each RandomNormalLike node, in memory, into
"take the first N values of a new float input and reshape them like the original", and feed that
input from ``numpy.random.default_rng((seed, sentence, node))``. The buffer size must be guessed
before the run (the second node's shape depends on predicted durations), so the graph pads a
short buffer with zeros and reports how many values it wanted; the caller then re-runs with the
exact size. A standard-normal stream's first N values do not depend on how many are drawn, so
the result does not depend on the guess: same seed, same samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper

RANDOM_OPS = {"RandomNormal", "RandomNormalLike", "RandomUniform", "RandomUniformLike"}
RANDOM_OPS |= {"Multinomial", "Bernoulli"}


@dataclass(frozen=True)
class NoiseInput:
    """One rewritten node: the graph input to feed and the graph output that reports its need."""

    input_name: str
    needed_name: str
    mean: float
    scale: float


def make_noise_seedable(model: onnx.ModelProto) -> list[NoiseInput]:
    """Rewrite every top-level RandomNormalLike node in place; returns the new inputs in order."""
    graph, nodes, noise = model.graph, [], []
    zero = helper.make_tensor("seeded_noise_zero", TensorProto.INT64, [1], [0])
    graph.initializer.append(zero)
    for node in graph.node:
        if node.op_type != "RandomNormalLike" or node.domain not in ("", "ai.onnx"):
            nodes.append(node)
            continue
        k = len(noise)
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        mean, scale = attrs.get("mean", 0.0), attrs.get("scale", 1.0)
        item = NoiseInput(f"seeded_noise_{k}", f"seeded_noise_{k}_needed", mean, scale)
        nodes.extend(_replacement(node, item, attrs.get("dtype")))
        graph.input.append(
            helper.make_tensor_value_info(item.input_name, TensorProto.FLOAT, [f"noise_{k}"])
        )
        graph.output.append(helper.make_tensor_value_info(item.needed_name, TensorProto.INT64, [1]))
        noise.append(item)
    del graph.node[:]
    graph.node.extend(nodes)
    return noise


def _replacement(node: onnx.NodeProto, item: NoiseInput, dtype: int | None) -> list:
    """Nodes computing: Reshape(Slice(Concat(noise, zeros(max(need - have, 0))), 0, need),
    Shape(x)), cast to the original output type."""
    x, out, p = node.input[0], node.output[0], f"{item.input_name}/"
    make = helper.make_node
    zero_float = helper.make_tensor("", TensorProto.FLOAT, [1], [0.0])
    nodes = [
        make("Shape", [x], [p + "shape"]),
        make("ReduceProd", [p + "shape"], [item.needed_name], keepdims=1),
        make("Shape", [item.input_name], [p + "have"]),
        make("Sub", [item.needed_name, p + "have"], [p + "gap"]),
        make("Max", [p + "gap", "seeded_noise_zero"], [p + "deficit"]),
        make("ConstantOfShape", [p + "deficit"], [p + "zeros"], value=zero_float),
        make("Concat", [item.input_name, p + "zeros"], [p + "padded"], axis=0),
        make("Slice", [p + "padded", "seeded_noise_zero", item.needed_name], [p + "flat"]),
        make("Reshape", [p + "flat", p + "shape"], [p + "float"]),
    ]
    if dtype is None:  # RandomNormalLike without dtype copies the input's type
        nodes.append(make("CastLike", [p + "float", x], [out]))
    else:
        nodes.append(make("Cast", [p + "float"], [out], to=dtype))
    return nodes


def remaining_random_ops(model: onnx.ModelProto) -> list[str]:
    """Random nodes left after the rewrite (in subgraphs, or other ops): seeds cannot reach them."""
    found = []

    def walk(graph: onnx.GraphProto) -> None:
        for node in graph.node:
            if node.op_type in RANDOM_OPS:
                found.append(f"{node.op_type} {node.name}".strip())
            for attribute in node.attribute:
                if attribute.HasField("g"):
                    walk(attribute.g)
                for sub in attribute.graphs:
                    walk(sub)

    walk(model.graph)
    return found


def noise_feeds(
    noise: list[NoiseInput], sizes: list[int], seed: int, stream: int
) -> dict[str, np.ndarray]:
    """Float32 standard-normal buffers (scaled by the node's mean/scale) for one run."""
    feeds = {}
    for k, (item, size) in enumerate(zip(noise, sizes, strict=True)):
        rng = np.random.default_rng((seed, stream, k))
        values = rng.standard_normal(size, dtype=np.float32)
        feeds[item.input_name] = values * np.float32(item.scale) + np.float32(item.mean)
    return feeds


def run_seeded(
    session, feeds: dict, noise: list[NoiseInput], guess: list[int], seed: int, stream: int
) -> list[np.ndarray]:
    """Run with guessed buffer sizes; while any buffer was short, run again with larger ones.

    A short early buffer changes what later nodes ask for (durations come from the first noise),
    so it can take one extra run per noise input; a run whose buffers all sufficed used exactly
    the seeded stream. Returns the model's own outputs (the "needed" outputs removed)."""
    sizes = list(guess)
    for _ in range(len(noise) + 1):
        outputs = session.run(None, {**feeds, **noise_feeds(noise, sizes, seed, stream)})
        own, needed = outputs[: len(outputs) - len(noise)], outputs[len(outputs) - len(noise) :]
        wanted = [int(np.asarray(n).reshape(-1)[0]) for n in needed]
        if all(w <= s for w, s in zip(wanted, sizes, strict=True)):
            return own
        sizes = [max(w, s) for w, s in zip(wanted, sizes, strict=True)]
    raise RuntimeError("seeded noise: the model kept asking for more noise than it was given")
