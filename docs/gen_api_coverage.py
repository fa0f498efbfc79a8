"""Regenerate docs/api_coverage.md and docs/api_coverage.json from an installed JAX.

    /work/main/.venv/bin/python docs/gen_api_coverage.py      (from the repository root)

The only file in lepton that imports JAX (never at test time): it records every public
name of the JAX namespaces below, checks which ones lepton lacks, and gives each missing
name a category and a reason from the rules in REASONS (first match wins; a missing name
no rule matches stops the script, so every entry has a real reason).
tests/test_api_coverage.py then keeps the record true without JAX.
"""
from __future__ import annotations

import importlib
import json
import pathlib
import re
import sys
import types

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's lepton

NA, PLANNED, OUT = "not applicable on CPU", "planned", "out of scope"
CATEGORIES = (NA, PLANNED, OUT)

_SHARD = (NA, "multi-device / multi-host sharding: lepton runs on one device")
_COLL = (NA, "collective over a named device axis (pmap / shard_map): one device")
_LOWP = (NA, "accelerator-only low-precision dtype: NumPy and Numba have no such type")
_PRIM = (OUT, "JAX's primitive object; lepton's primitives are lepton.primitives.*_p "
              "with their own rules")
_CFG = (OUT, "JAX configuration / debugging switch with no lepton counterpart")
_INTERNAL = (OUT, "JAX internals or tooling module, not user API")
_REF = (OUT, "mutable array references: lepton is purely functional")
_XLA = (OUT, "XLA-specific (HLO tokens, FFI, export, TPU algorithms)")
_PREC = (NA, "accelerator precision / algorithm control: CPU computes in full precision")

#: (namespace regex, name regex, category, why); first match wins.
REASONS = [
    # ---- top level
    (r"jax$", r"NamedSharding|P|Shard|auto_pcast|make_mesh|set_mesh|shard_map|smap|pmap|"
              r"reshard|sharding|distributed|host_count|host_id|host_ids|process_indices|"
              r"make_array_from_.*|remove_size_one_mesh_axis_from_type|"
              r"threefry_partitionable", *_SHARD),
    (r"jax$", r"transfer_guard.*|copy_to_host_async|memory|live_arrays|"
              r"array_garbage_collection_guard|effects_barrier|default_device",
     NA, "device memory and host-device transfer control: arrays live in host memory"),
    (r"jax$", r"Ref|new_ref|empty_ref|free_ref|freeze|ref|ds", *_REF),
    (r"jax$", r"default_matmul_precision", *_PREC),
    (r"jax$", r"debug_nans|debug_infs|log_compiles", PLANNED,
     "debug flag: NaN/inf checks and compile logging in lepton.config are planned"),
    (r"jax$", r"allow_f16_reductions|check_tracer_leaks|checking_leaks|debug_key_reuse|"
              r"default_prng_impl|enable_checks|enable_custom_prng|legacy_prng_key|"
              r"jax2tf_associative_scan_reductions|numpy_dtype_promotion|"
              r"numpy_rank_promotion|no_execution|no_tracing|softmax_custom_jvp|"
              r"thread_guard|make_user_context|print_environment_info", *_CFG),
    (r"jax$", r"ad|api_util|interpreters|lib|stages|typing|version|monitoring|profiler|"
              r"experimental|custom_batching|custom_derivatives|ops", *_INTERNAL),
    (r"jax$", r"export|ffi|dlpack", *_XLA),
    (r"jax$", r"image", PLANNED, "jax.image (resize, scale_and_translate) is planned"),
    (r"jax$", r"closure_convert|custom_gradient|linear_transpose|fwd_and_bwd|"
              r"checkpoint_policies|typeof|float0|device_get|clear_caches|"
              r"ensure_compile_time_eval|named_call|named_scope",
     PLANNED, "transform utility not implemented yet (lepton has the machinery)"),
    # ---- jax.numpy
    (r"jax\.numpy$", r"bfloat16|float8_.*|float6_.*|float4_.*|int[124]|uint[124]", *_LOWP),
    (r"jax\.numpy$", r"character|flexible|object_", NA,
     "string / object arrays: lepton arrays are numeric"),
    (r"jax\.numpy$", r"fft", PLANNED, "lepton.numpy.fft is planned"),
    (r"jax\.numpy$", r"load|save|savez|fromfile|frombuffer|fromiter|fromstring|"
                     r"from_dlpack", PLANNED,
     "I/O and buffer constructors: use NumPy then lepton.numpy.asarray (planned)"),
    (r"jax\.numpy$", r"intersect1d|setdiff1d|setxor1d|union1d|unique_all|unique_counts|"
                     r"unique_inverse|unique_values", PLANNED,
     "set operations with a static size= (as JAX) are planned"),
    (r"jax\.numpy$", r"histogram.*|digitize|interp", PLANNED,
     "binning and interpolation are planned"),
    (r"jax\.numpy$", r"poly.*|roots", PLANNED, "polynomial functions are planned"),
    (r"jax\.numpy$", r"bartlett|blackman|hamming|hanning|kaiser", PLANNED,
     "window functions are planned"),
    (r"jax\.numpy$", r"nancum.*|nanmedian|nanpercentile|nanquantile", PLANNED,
     "NaN-ignoring variants of these reductions are planned"),
    (r"jax\.numpy$", r"copysign|frexp|gcd|lcm|heaviside|i0|ldexp|modf|nextafter|spacing|"
                     r"bitwise_count", PLANNED, "elementwise function not implemented yet"),
    (r"jax\.numpy$", r"ufunc|frompyfunc", PLANNED,
     "jnp.ufunc objects (reduce / accumulate / at methods) are planned"),
    (r"jax\.numpy$", r"place|put|put_along_axis|fill_diagonal", PLANNED,
     "NumPy's in-place writers (JAX's inplace=False forms); use x.at[...] meanwhile"),
    (r"jax\.numpy$", r"einsum_path", OUT, "contraction-order planning of opt_einsum"),
    (r"jax\.numpy$", r".*", PLANNED, "NumPy function not implemented yet"),
    (r"jax\.numpy\.fft$", r".*", PLANNED, "lepton.numpy.fft is planned"),
    (r"jax\.numpy\.linalg$", r".*", PLANNED, "linear-algebra function not implemented yet"),
    # ---- jax.lax
    (r"jax\.lax$", r".*_p", *_PRIM),
    (r"jax\.lax$", r"all_gather|all_to_all|axis_index|axis_size|pbroadcast|pcast|pmax|"
                   r"pmean|pmin|ppermute|precv|psend|pshuffle|psum|psum_scatter|pswapaxes|"
                   r"ragged_all_to_all", *_COLL),
    (r"jax\.lax$", r"with_sharding_constraint", *_SHARD),
    (r"jax\.lax$", r"AccuracyMode|DotAlgorithm|DotAlgorithmPreset|PrecisionLike|Tolerance|"
                   r"reduce_precision|approx_max_k|approx_min_k", *_PREC),
    (r"jax\.lax$", r"after_all|create_token|composite|stage|dce_sink|platform_dependent|"
                   r"optimization_barrier|RandomAlgorithm|rng_bit_generator|rng_uniform|"
                   r"scaled_dot|shape_as_value", *_XLA),
    (r"jax\.lax$", r"FftType|fft", PLANNED, "FFTs are planned (with lepton.numpy.fft)"),
    (r"jax\.lax$", r"linalg", PLANNED,
     "the lax.linalg namespace is planned (its functions exist in lepton.numpy.linalg)"),
    (r"jax\.lax$", r"bessel_.*|betainc|zeta|random_gamma_grad|cumlogsumexp", PLANNED,
     "special function not implemented yet"),
    (r"jax\.lax$", r".*DimensionNumbers|GatherScatterMode|RoundingMethod", PLANNED,
     "lepton takes these as tuples / strings; the named types are planned"),
    (r"jax\.lax$", r"conv_.*|padtype_to_pads|reduce_window_shape_tuple", PLANNED,
     "convolution variant or shape helper not implemented yet"),
    (r"jax\.lax$", r"ragged_dot.*", PLANNED, "grouped (ragged) matmul is planned"),
    (r"jax\.lax$", r".*", PLANNED, "lax operation not implemented yet"),
    # ---- jax.random
    (r"jax\.random$", r"random_gamma_p", *_PRIM),
    (r"jax\.random$", r"key_impl|key_dtype|clone", OUT,
     "typed-key implementation hooks: lepton keys are uint32 arrays"),
    (r"jax\.random$", r".*", PLANNED, "distribution sampler not implemented yet"),
    # ---- jax.nn
    (r"jax\.nn$", r"get_scaled_dot_general_config|scaled_dot_general|scaled_matmul", *_LOWP),
    (r"jax\.nn$", r".*", PLANNED, "not implemented yet"),
    (r"jax\.nn\.initializers$", r"Initializer", OUT,
     "a typing Protocol: lepton initializers are plain functions"),
    # ---- jax.scipy
    (r"jax\.scipy\.special$", r".*", PLANNED, "special function not implemented yet"),
    (r"jax\.scipy\.linalg$", r".*", PLANNED,
     "not implemented yet (numpy.linalg's eigh / qr / svd exist with NumPy's signatures)"),
    (r"jax\.scipy\.stats$", r"gaussian_kde|mode|rankdata|sem", PLANNED,
     "statistics helper not implemented yet"),
    (r"jax\.scipy\.stats$", r".*", PLANNED, "distribution not implemented yet"),
    (r"jax\.scipy\.stats\..*", r".*", PLANNED,
     "this function of the distribution is not implemented yet"),
    # ---- jax.tree_util
    (r"jax\.tree_util$", r"default_registry", OUT, "JAX's registry object"),
    (r"jax\.tree_util$", r".*", PLANNED, "tree utility not implemented yet"),
]

NAMESPACES = [("jax", "lepton"), ("jax.numpy", "lepton.numpy"),
              ("jax.numpy.linalg", "lepton.numpy.linalg"), ("jax.numpy.fft", "lepton.numpy.fft"),
              ("jax.lax", "lepton.lax"), ("jax.random", "lepton.random"), ("jax.nn", "lepton.nn"),
              ("jax.nn.initializers", "lepton.nn.initializers"),
              ("jax.scipy.special", "lepton.scipy.special"),
              ("jax.scipy.linalg", "lepton.scipy.linalg"),
              ("jax.scipy.stats", "lepton.scipy.stats"), ("jax.tree_util", "lepton.tree_util")]


def public_names(mod):
    return sorted(n for n in dir(mod) if not n.startswith("_"))


def reason(ns, name):
    for ns_re, name_re, cat, why in REASONS:
        if re.fullmatch(ns_re, ns) and re.fullmatch(name_re, name):
            return cat, why
    raise SystemExit(f"no reason for missing {ns}.{name}: add a rule to REASONS")


def lepton_has(lmod_name, name):
    try:
        mod = importlib.import_module(lmod_name)
    except ImportError:
        return False
    return hasattr(mod, name)


def main():
    import jax
    import jax.scipy.stats as jss
    spaces = list(NAMESPACES)
    for sub in public_names(jss):
        if isinstance(getattr(jss, sub), types.ModuleType):
            spaces.append((f"jax.scipy.stats.{sub}", f"lepton.scipy.stats.{sub}"))
    data = {"jax_version": jax.__version__, "namespaces": {}}
    for jname, lname in spaces:
        names = public_names(importlib.import_module(jname))
        missing = {n: list(reason(jname, n)) for n in names if not lepton_has(lname, n)}
        data["namespaces"][jname] = {"lepton": lname, "names": " ".join(names),
                                     "missing": missing}
    (HERE / "api_coverage.json").write_text(json.dumps(data, indent=1) + "\n")
    (HERE / "api_coverage.md").write_text(render(data))
    total = sum(len(v["names"].split()) for v in data["namespaces"].values())
    miss = sum(len(v["missing"]) for v in data["namespaces"].values())
    print(f"{total} JAX names, {miss} missing in lepton")


def render(data):
    spaces = data["namespaces"]
    out = [
        "# lepton's coverage of the JAX API",
        "",
        f"Every public name of the JAX {data['jax_version']} namespaces below that lepton does "
        "not provide, with why. Generated by `docs/gen_api_coverage.py` (the only code that "
        "imports JAX); `tests/test_api_coverage.py` checks, without JAX, that every name "
        "listed here is missing from lepton and every other JAX name (all are recorded in "
        "`docs/api_coverage.json`) exists. After adding a name to lepton, rerun the "
        "generator.",
        "",
        "Categories: **not applicable on CPU** (multi-device, accelerator dtypes and "
        "precision controls), **planned** (wanted, not written yet), **out of scope** "
        "(JAX internals, XLA specifics, mutable references).",
        "",
        "| JAX namespace | lepton module | JAX names | provided | missing | "
        "not applicable on CPU | planned | out of scope |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for jname, v in spaces.items():
        cats = [c for c, _ in v["missing"].values()]
        n, m = len(v["names"].split()), len(v["missing"])
        out.append(f"| `{jname}` | `{v['lepton']}` | {n} | {n - m} | {m} | "
                   + " | ".join(str(cats.count(c)) for c in CATEGORIES) + " |")
    for jname, v in spaces.items():
        if not v["missing"]:
            continue
        out += ["", f"## `{jname}` (lepton: `{v['lepton']}`)", "",
                "| name | category | why |", "|---|---|---|"]
        for name, (cat, why) in sorted(v["missing"].items()):
            out.append(f"| `{name}` | {cat} | {why} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
