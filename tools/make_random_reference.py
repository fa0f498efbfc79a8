"""Record jax.random outputs for tests/test_random.py (run once; the tests never import jax).

Usage: python tools/make_random_reference.py tests/data/random_reference.json   (runs itself in three subprocesses: one per JAX config)
"""
import json, subprocess, sys

CASES = {
    "PRNGKey(0)": "jr.PRNGKey(0)",
    "PRNGKey(42)": "jr.PRNGKey(42)",
    "PRNGKey(-1)": "jr.PRNGKey(-1)",
    "PRNGKey(2**31-1)": "jr.PRNGKey(2**31 - 1)",
    "split(K0)": "jr.split(K0)",
    "split(K42,3)": "jr.split(K42, 3)",
    "split(K42,(2,3))": "jr.split(K42, (2, 3))",
    "split(K0,1)": "jr.split(K0, 1)",
    "fold_in(K0,1)": "jr.fold_in(K0, 1)",
    "fold_in(K42,2**32-1)": "jr.fold_in(K42, np.uint32(2**32 - 1))",
    "fold_in(split(K0)[1],12345)": "jr.fold_in(jr.split(K0)[1], 12345)",
    "bits(K0,(5,))": "jr.bits(K0, (5,))",
    "bits(K42,(2,3))": "jr.bits(K42, (2, 3))",
    "bits(K42,(7,),uint8)": "jr.bits(K42, (7,), jnp.uint8)",
    "bits(K42,(5,),uint16)": "jr.bits(K42, (5,), jnp.uint16)",
    "uniform(K0,())": "jr.uniform(K0)",
    "uniform(K0,(7,))": "jr.uniform(K0, (7,))",
    "uniform(K42,(2,3))": "jr.uniform(K42, (2, 3))",
    "uniform(K42,(64,),minval=-2,maxval=2)": "jr.uniform(K42, (64,), minval=-2., maxval=2.)",
    "uniform(K42,(64,),minval=-2,maxval=3)": "jr.uniform(K42, (64,), minval=-2., maxval=3.)",
    "uniform(K0,(5,),float16)": "jr.uniform(K0, (5,), jnp.float16)",
    "normal(K0,(7,))": "jr.normal(K0, (7,))",
    "normal(K42,(1024,))": "jr.normal(K42, (1024,))",
    "normal(K0,(3,),complex64)": "jr.normal(K0, (3,), jnp.complex64)",
    "randint(K0,(8,),0,10)": "jr.randint(K0, (8,), 0, 10)",
    "randint(K42,(6,),-5,1000)": "jr.randint(K42, (6,), -5, 1000)",
    "randint(K42,(6,),0,256,uint8)": "jr.randint(K42, (6,), 0, 256, jnp.uint8)",
    "randint(K42,(4,),-2**31,2**31-1)": "jr.randint(K42, (4,), -2**31, 2**31 - 1)",
    "randint(K0,(5,),3,3)": "jr.randint(K0, (5,), 3, 3)",
    "bernoulli(K0,0.3,(16,))": "jr.bernoulli(K0, 0.3, (16,))",
    "exponential(K0,(64,))": "jr.exponential(K0, (64,))",
    "gumbel(K0,(64,))": "jr.gumbel(K0, (64,))",
    "laplace(K0,(64,))": "jr.laplace(K0, (64,))",
    "logistic(K0,(64,))": "jr.logistic(K0, (64,))",
    "truncated_normal(K0,-1,2,(64,))": "jr.truncated_normal(K0, -1., 2., (64,))",
    "categorical(K0,log([.1,.2,.7]),shape=(16,))":
        "jr.categorical(K0, jnp.log(jnp.array([.1, .2, .7])), shape=(16,))",
    "permutation(K0,10)": "jr.permutation(K0, 10)",
    "choice(K0,5,(6,))": "jr.choice(K0, 5, (6,))",
    "choice(K0,5,(3,),replace=False)": "jr.choice(K0, 5, (3,), replace=False)",
    "choice(K0,4,(6,),p=[.1,.2,.3,.4])": "jr.choice(K0, 4, (6,), p=jnp.array([.1, .2, .3, .4]))",
}
X64_CASES = {
    "PRNGKey(2**40+7)": "jr.PRNGKey(2**40 + 7)",
    "PRNGKey(int64(-2))": "jr.PRNGKey(np.int64(-2))",
    "bits(K42,(3,),uint64)": "jr.bits(K42, (3,), jnp.uint64)",
    "uniform(K0,(5,),float64)": "jr.uniform(K0, (5,), jnp.float64)",
    "normal(K42,(256,),float64)": "jr.normal(K42, (256,), jnp.float64)",
    "randint(K0,(5,),0,2**40,int64)": "jr.randint(K0, (5,), 0, 2**40, jnp.int64)",
}


def run(config):
    import numpy as np
    import jax
    import jax.numpy as jnp
    from jax import random as jr
    jax.config.update("jax_threefry_partitionable", config == "partitionable")
    jax.config.update("jax_enable_x64", config == "x64")
    env = dict(np=np, jnp=jnp, jr=jr, K0=jr.PRNGKey(0), K42=jr.PRNGKey(42))
    out = {}
    for name, expr in (X64_CASES if config == "x64" else CASES).items():
        x = np.asarray(eval(expr, env))
        if x.dtype.kind == "c":
            x = np.stack([x.real, x.imag], -1)
        out[name] = {"dtype": str(x.dtype), "shape": list(x.shape), "value": x.ravel().tolist()}
    return out


if __name__ == "__main__":
    if sys.argv[1] == "--config":
        print(json.dumps(run(sys.argv[2])))
    else:
        import jax
        cases = {c: json.loads(subprocess.check_output([sys.executable, __file__, "--config", c]))
                 for c in ("default", "partitionable", "x64")}
        doc = {"about": "jax.random outputs recorded with jax " + jax.__version__ + " on CPU. "
                        "'default': jax_threefry_partitionable=False; 'partitionable': True; "
                        "'x64': jax_enable_x64=True (partitionable=False). Complex values are "
                        "stored as [..., (real, imag)].",
               "cases": cases}
        configs = []
        for config, entries in cases.items():  # one case per line, for readable diffs
            rows = ",\n".join(f"   {json.dumps(k)}: {json.dumps(v, separators=(',', ':'))}"
                               for k, v in entries.items())
            configs.append(f"  {json.dumps(config)}: {{\n{rows}\n  }}")
        with open(sys.argv[1], "w") as f:
            f.write(f'{{\n "about": {json.dumps(doc["about"])},\n "cases": {{\n'
                    + ",\n".join(configs) + "\n }\n}\n")
