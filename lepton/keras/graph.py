"""The layer graph of a functional model: which calls (nodes) lie between its inputs
and outputs, in what order they run, the layers in Keras's order, and the graph's saved
form (``graph_config``) and its rebuilding (``replay``)."""
from __future__ import annotations

from types import SimpleNamespace

from . import layers as klayers
from .layers.symbolic import call_layer

__all__ = ["map_graph", "graph_config", "replay"]


def map_graph(name, inputs, outputs):
    """The graph from ``inputs`` to ``outputs`` (lists of KerasTensors), as Keras's
    ``map_graph``: ``nodes`` in an order that computes every tensor before its use,
    ``all_layers`` by depth from the outputs then by discovery (InputLayers included),
    ``layers`` those with weights, ``index`` (layer id -> position in ``layers``),
    ``node_pos`` (node id -> which call of its layer it is, for "Connected to" and
    saving), ``consumed`` (tensor id -> how many calls read it) and ``int_inputs`` (an
    input fed to an Embedding or declared integer).  A tensor that does not come from
    ``inputs`` is refused, naming the Input it needs."""
    order, finished, active, first_seen = [], set(), set(), {}
    given = {id(t) for t in inputs}

    def visit(t, output):
        node = t._node
        if id(node) in finished:
            return
        if node.is_input and id(t) not in given:
            raise ValueError(
                f"Model {name!r}: output {output.name} depends on the Input "
                f"{node.layer.name!r} (shape {t.shape}), which is not among the model's "
                f"inputs {[x._node.layer.name for x in inputs]}. Pass it in inputs=[...] "
                f"(or build the output from the given inputs).")
        if id(node) in active:
            raise ValueError(f"Model {name!r}: the graph has a cycle at layer "
                             f"{node.layer.name!r}")
        first_seen.setdefault(id(node.layer), (len(first_seen), node.layer))
        active.add(id(node))
        for p in node.parents:
            visit(p, output)
        active.discard(id(node))
        finished.add(id(node))
        order.append(node)

    for t in outputs:
        visit(t, t)
    for t in inputs:  # an input that no output uses still belongs to the model
        if id(t._node) not in finished:
            finished.add(id(t._node))
            order.insert(0, t._node)
            first_seen.setdefault(id(t._node.layer), (len(first_seen), t._node.layer))
    depth, layer_depth = {}, {}
    for node in reversed(order):
        d = max(depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        depth[id(node)] = layer_depth[id(node.layer)] = d
        for p in node.parents:
            depth[id(p._node)] = max(depth.get(id(p._node), 0), d + 1)
    ranked = sorted(first_seen.values(), key=lambda il: (-layer_depth.get(id(il[1]), 0),
                                                         il[0]))
    all_layers = [layer for _, layer in ranked]
    names = [layer.name for layer in all_layers]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"Model {name!r}: the layer name(s) {dup} are used more than once; "
                         f"every layer of a model needs its own name")
    nodes = [n for n in order if not n.is_input]
    layers = [layer for layer in all_layers if not isinstance(layer, klayers.InputLayer)]
    per_layer, node_pos = {}, {}
    for n in order:
        k = per_layer.get(id(n.layer), 0)
        node_pos[id(n)], per_layer[id(n.layer)] = k, k + 1
    consumed = {}
    for n in nodes:
        for p in n.parents:
            consumed[id(p)] = consumed.get(id(p), 0) + 1
    int_inputs = []
    for t in inputs:
        dtype = str(t._node.layer.dtype or "float32")
        feeds_embedding = any(isinstance(n.layer, klayers.Embedding) and
                              any(p is t for p in n.inputs) for n in nodes)
        int_inputs.append(feeds_embedding or dtype.startswith(("int", "uint")))
    return SimpleNamespace(all_layers=all_layers, layers=layers, nodes=nodes,
                           index={id(layer): i for i, layer in enumerate(layers)},
                           node_pos=node_pos, consumed=consumed, int_inputs=int_inputs)


def graph_config(all_layers, nodes, node_pos, inputs, outputs):
    """The graph as JSON-able data: each layer's config, each call (the layer's name and
    the tensors it read, as ``[layer, call, output index]``), the inputs and outputs."""
    layers = []
    for layer in all_layers:
        if isinstance(layer, klayers.InputLayer):
            cfg = {"name": layer.name, "dtype": layer.dtype,
                   "shape": [None if d is None else int(d) for d in layer.shape]}
        else:
            cfg = layer.get_config()
        layers.append({"class_name": type(layer).__name__, "config": cfg})

    def ref(t):
        return [t._node.layer.name, node_pos[id(t._node)], t._index]

    calls = [{"layer": n.layer.name, "inputs": [ref(t) for t in n.inputs],
              "as_list": n.as_list, "states": [ref(t) for t in n.states],
              "training": n.training} for n in nodes]
    return {"layers": layers, "nodes": calls, "inputs": [ref(t) for t in inputs],
            "outputs": [ref(t) for t in outputs]}


def replay(config, custom_objects):
    """``(input tensors, output tensors)`` of a graph rebuilt from ``graph_config``'s
    data: new layers from their configs, called in the saved order (so shared layers
    and several outputs come back as they were)."""
    made, calls = {}, {}
    for spec in config["layers"]:
        if spec["class_name"] == "InputLayer":
            c = spec["config"]
            t = klayers.Input(shape=tuple(c["shape"]), name=c["name"], dtype=c["dtype"])
            made[c["name"]] = t._node.layer
            calls[c["name"]] = [[t]]
        else:
            layer = klayers.from_config(spec, custom_objects)
            made[layer.name] = layer
            calls[layer.name] = []

    def tensor(ref):
        name, node, index = ref
        return calls[name][node][index]

    for node in config["nodes"]:
        inputs = [tensor(r) for r in node["inputs"]]
        kwargs = {}
        if node["states"]:
            kwargs["initial_state"] = [tensor(r) for r in node["states"]]
        if node["training"] is not None:
            kwargs["training"] = node["training"]
        out = call_layer(made[node["layer"]], inputs if node["as_list"] else inputs[0],
                         **kwargs)
        calls[node["layer"]].append(out if isinstance(out, list) else [out])
    return [tensor(r) for r in config["inputs"]], [tensor(r) for r in config["outputs"]]
