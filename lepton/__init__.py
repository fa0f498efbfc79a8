"""lepton: composable transforms (grad, vmap, jit, ...) of pure NumPy-style functions."""
from __future__ import annotations

__version__ = "0.1.0"

from . import config, dtypes, tree  # noqa: F401
from .config import disable_x64, enable_x64  # noqa: F401
from .core import Array, ShapedArray  # noqa: F401
from . import numpy  # noqa: F401  (installs array operators)
from . import flatten_util  # noqa: F401  (installs lepton.tree.ravel_pytree)
from .transforms.autodiff import (grad, hessian, hvp, jacfwd, jacrev, jvp, linearize,  # noqa: F401
                                  value_and_grad, vjp)
from .transforms.vmap import vmap  # noqa: F401
from .transforms import vectorize as _vectorize  # noqa: F401,E402  (installs lepton.numpy.vectorize)
from .transforms.api import eval_shape, make_jaxpr  # noqa: F401
from .dataclasses import dataclass, field  # noqa: F401
from .transforms.custom import (checkpoint, custom_jvp, custom_vjp, saved_residuals,  # noqa: F401
                                stop_gradient)

remat = checkpoint
jacobian = jacrev  # as jax.jacobian
from . import tree_util  # noqa: F401,E402
from .device import (Device, block_until_ready, default_backend, device_count,  # noqa: F401,E402
                     device_put, devices, local_device_count, local_devices, process_count,
                     process_index)
from .transforms.jit import (cache_info, clear_cache, disable_jit, explain_cache_misses,  # noqa: F401
                             jit, wait_for_compilation)
from . import debug  # noqa: F401,E402
from .callbacks import pure_callback  # noqa: F401,E402
from .transforms.autograd_compat import elementwise_grad  # noqa: F401,E402
from .transforms.api_compat import (device_get, float0, named_call, named_scope,  # noqa: F401,E402
                                    typeof)
from .transforms.api import ShapeDtypeStruct  # noqa: F401,E402
from . import random  # noqa: F401,E402
from . import lax  # noqa: F401,E402
from . import nn  # noqa: F401,E402
from . import stax  # noqa: F401,E402
from . import optimizers  # noqa: F401,E402
from . import scipy  # noqa: F401,E402
from .serialization import SaveFormatError, load, save  # noqa: F401,E402
