"""lepton.optimizers: ``jax.example_libraries.optimizers`` on lepton, plus adamw and schedules.

    from lepton import optimizers
    opt_init, opt_update, get_params = optimizers.adam(1e-3)
    opt_state = opt_init(params)
    opt_state = opt_update(i, lepton.grad(loss)(get_params(opt_state), batch), opt_state)

``step_size`` is a float or a schedule ``i -> step size``. The state is a pytree
(``OptimizerState``), so ``opt_update`` can be jitted with a traced step index, vmapped over a
batch of independent parameter sets, and saved with ``lepton.save``. Deviation from JAX:
``opt_update`` keeps the dtype of every floating state leaf (JAX lets a float32 schedule
promote, say, float16 parameters to float32).
"""
from .base import (JoinPoint, Optimizer, OptimizerState, make_schedule, optimizer,  # noqa: F401
                   pack_optimizer_state, unpack_optimizer_state)
from .clipping import clip_by_global_norm, clip_grads, l2_norm  # noqa: F401
from .rules import (adagrad, adam, adamax, adamw, momentum, nesterov, rmsprop,  # noqa: F401
                    rmsprop_momentum, sgd, sm3)
from .schedules import (constant, cosine_decay, exponential_decay, inverse_time_decay,  # noqa: F401
                        linear_warmup, piecewise_constant, polynomial_decay, warmup)

__all__ = ["JoinPoint", "Optimizer", "OptimizerState", "make_schedule", "optimizer",
           "pack_optimizer_state", "unpack_optimizer_state", "clip_by_global_norm", "clip_grads",
           "l2_norm", "adagrad", "adam", "adamax", "adamw", "momentum", "nesterov", "rmsprop",
           "rmsprop_momentum", "sgd", "sm3", "constant", "cosine_decay", "exponential_decay",
           "inverse_time_decay", "linear_warmup", "piecewise_constant", "polynomial_decay", "warmup"]
