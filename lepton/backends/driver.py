"""The driver of a compiled program, written as straight-line Python source.

A program's steps (kernels, matrix products, host calls) run from one generated function:
each value is a local variable, each kernel call one line with its sizes, arguments and
output buffers spelled out.  Loop bodies call their driver at every step, so what a step
costs in Python matters: compared with walking a list of closures over an environment
list, the generated function halves the per-step overhead.

Kernels and products are written inline; any other step keeps its ``step(env)`` closure,
fed through a small environment list.  ``run(*args, out=None)``: ``out`` gives a
destination array (or None) per output, which kernels write directly (loop drivers pass
the rows of their stacked outputs) and which otherwise receive a copy; calls with ``out``
come from loop drivers, which guarantee the arguments' types, so they skip the checks.

The device supplies the buffers: ``empty(shape, dtype)`` allocates a kernel's output,
``ascontiguousarray(a)`` makes an input contiguous and ``matmul(a, b)`` is the product
that ``product`` steps call.
"""
from __future__ import annotations

#: The names a device's buffer interface must provide (``Driver(..., buffers)``).
BUFFERS = ("empty", "ascontiguousarray", "matmul")


class Driver:
    """Collects a program's steps, then ``build()`` returns its ``run`` function."""

    def __init__(self, n_in: int, template: list, buffers: dict):
        missing = [name for name in BUFFERS if name not in buffers]
        if missing:
            raise TypeError(f"the device's buffer interface lacks {missing}")
        self.n_in, self.template = n_in, template
        self.lines: list = []
        self.globals: dict = {name: buffers[name] for name in BUFFERS}
        self.contiguous: set = set()  # slots whose arrays a kernel or product made
        self.dest: dict = {}        # output slot -> its destination variable
        self.written: set = set()   # output slots a kernel writes into their destination
        self.uses_env = False

    def const(self, value) -> str:
        name = f"g{len(self.globals)}"
        self.globals[name] = value
        return name

    def outputs(self, out_slots):
        """Declare the program's outputs (call before adding steps)."""
        self.out_slots = list(out_slots)
        for p, s in enumerate(self.out_slots):
            self.dest.setdefault(s, f"d{p}")

    def kernel(self, entry, prefix, ins, outs):
        """A fused kernel: ``ins`` are (slot, kernel shape or None), ``outs`` (slot, kernel
        shape, dtype, full shape or None)."""
        args = [self.const(p) for p in prefix]
        for s, shape in ins:
            v = f"s{s}"
            if s not in self.contiguous:
                v = f"({v} if {v}.flags.c_contiguous else ascontiguousarray({v}))"
            args.append(v if shape is None else f"{v}.reshape({self.const(shape)})")
        after = []
        for s, shape, dtype, full in outs:
            r, d = f"r{s}", self.dest.get(s)
            new = f"empty({self.const(shape)}, {self.const(dtype)})"
            as_kernel = d if full is None else f"{d}.reshape({self.const(shape)})"
            mine = r if full is None else f"{r}.reshape({self.const(full)})"
            if d is None:
                self.lines.append(f"{r} = {new}")
                after.append(f"s{s} = {mine}")
            else:
                self.written.add(s)
                self.lines.append(f"{r} = {new} if {d} is None else {as_kernel}")
                after.append(f"s{s} = {mine} if {d} is None else {d}")
            args.append(r)
            self.contiguous.add(s)
        self.lines.append(f"{self.const(entry)}({', '.join(args)})")
        self.lines += after

    def product(self, a: str, b: str, out: int, call=None):
        """``out = a @ b`` on (transposed) views: ``a``/``b`` are expressions over slots;
        ``call`` replaces the device's ``matmul`` where the lowering knows better (a
        product too small for the device's per-call choices)."""
        fn = "matmul" if call is None else self.const(call)
        self.lines.append(f"s{out} = {fn}({a}, {b})")
        self.contiguous.add(out)

    def call(self, step, in_slots, out_slots):
        """Any other step: its ``step(env)`` closure reads and writes an environment list."""
        self.uses_env = True
        self.lines += [f"env[{s}] = s{s}" for s in in_slots if self.template[s] is None]
        self.lines.append(f"{self.const(step)}(env)")
        self.lines += [f"s{s} = env[{s}]" for s in out_slots]

    def build(self, check):
        """The ``run`` function; ``check(args)`` validates a call without ``out``."""
        n_out = len(self.out_slots)
        params = ", ".join(f"s{i}" for i in range(self.n_in))
        dests = ", ".join(f"d{p}" for p in range(n_out))
        given = ", ".join(f"o{p}" for p in range(n_out))
        for s, value in enumerate(self.template):
            if value is not None:
                self.globals[f"s{s}"] = value  # literals: module-level names
        self.globals.update(check=check, NONE=(None,) * n_out, template=self.template)
        body = ["if out is None:",
                f"    check(({params}{',' if self.n_in == 1 else ''}))",
                f"    {dests}{',' if n_out == 1 else ''} = NONE" if n_out else "    pass",
                "else:",
                f"    {given}{',' if n_out == 1 else ''} = out" if n_out else "    pass"]
        # Loop drivers call with ``out`` at every step: spelled out per output, no loops.
        body += [f"    d{p} = o{p} if o{p} is None or o{p}.flags.c_contiguous else None"
                 for p in range(n_out)]
        if self.uses_env:
            body.append("env = template.copy()")
        body += self.lines
        results = ", ".join(f"s{s}" for s in self.out_slots)
        copies = []
        for p, s in enumerate(self.out_slots):
            if s in self.written and self.dest[s] == f"d{p}":  # written there unless
                copies.append(f"    if d{p} is None and o{p} is not None:")  # not contiguous
            else:
                copies.append(f"    if o{p} is not None and s{s} is not o{p}:")
            copies.append(f"        o{p}[...] = s{s}")
        body += [f"res = [{results}]"] + (["if out is not None:"] + copies if copies else [])
        body += ["return res"]
        sig = f"{params}, out=None" if params else "out=None"
        source = f"def run({sig}):\n" + "\n".join("    " + ln for ln in body) + "\n"
        namespace = dict(self.globals)
        exec(compile(source, "<lepton cpu driver>", "exec"), namespace)
        run = namespace["run"]
        run.driver_source = source
        return run
