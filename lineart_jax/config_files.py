"""Loading a config file's sibling, so configs inherit wherever they are run from.

``from configs import base`` only works with the repository root as the working
directory; ``sibling(__file__, "base")`` works from anywhere.
"""

import importlib.util
import os
import types


def sibling(config_file: str, name: str) -> types.ModuleType:
  path = os.path.join(os.path.dirname(os.path.abspath(config_file)), name + ".py")
  spec = importlib.util.spec_from_file_location(f"lineart_jax_config_{name}", path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module
